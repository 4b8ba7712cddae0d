/**
 * Rejects when `p` takes longer than `ms` (so that no test hangs on a peer that stopped answering),
 * naming `what` in the error; otherwise settles as `p` does. The timer never outlives the race.
 */
export function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
