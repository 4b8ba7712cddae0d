/**
 * The .NET garbage-collector settings {@link ProcessConnection} gives the pwsh it starts, as
 * environment variables (`DOTNET_GCgen0size`, `DOTNET_GCLOHThreshold`; hexadecimal, as .NET reads
 * them). pwsh's remoting server allocates far more than it sends, and with .NET's defaults it spends
 * much of a session collecting; both settings trade some memory of that one process for throughput.
 * A setting the caller's environment already holds, under its `DOTNET_` or `COMPlus_` name, stands.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

/**
 * First-generation allocation budget, in bytes, that {@link ProcessConnection} gives the .NET garbage
 * collector of the pwsh it starts (16 MiB; .NET's own is at most 6 MiB).
 *
 * pwsh's remoting server allocates 75–95 KB for every object it sends, however small: each fragment
 * gets a new 32 KiB blob and a new 32 KiB `MemoryStream` (`SerializedDataStream` in PowerShell's
 * `fragmentor.cs`). Streaming `1..100000` allocated 7.6 GB, so with .NET's budget the server
 * collected 3,556 times, every 28 objects, and each collection's pause grew with the objects sent
 * before it: in the fifth of five runs of 20,000 Get-Item-like objects on one pool,
 * `[GC]::GetTotalPauseDuration()` grew by 24.5 s of the run's 26.5. PowerShell's own client drives
 * the same server the same way. Measured on this project's bench machine (pwsh 7.6.9): `1..100000`
 * 26–48k instead of 4.7–16k objects/s, 10,000 Get-Item-like objects 8.4–10.6k instead of 5.2–7.1k
 * once warm, for 12–20 MB more resident memory in the server.
 *
 * A larger budget streams a little faster still (32 MiB: 28–44k) but costs a new session its first
 * requests: the collector first touches all of its budget, and on this machine a page fault costs
 * ~12 µs. Over 300 `$null` invokes of a new session, 32 MiB took 8,700–8,900 page faults against
 * 2,000–2,200 with .NET's budget and 13% more server CPU per invoke; 16 MiB takes 4,500–4,700.
 */
export const DEFAULT_GC_GEN0_BUDGET = 16 * 1024 * 1024

/**
 * Size, in bytes, from which the pwsh {@link ProcessConnection} starts puts an object on .NET's
 * large-object heap (4 MiB; .NET's own is 85,000 bytes).
 *
 * A file transfer moves 1 MiB chunks, and pwsh holds each as a `byte[]`, a base64 string of 2.8 MB
 * and the buffers of its XML writer or reader: all over .NET's threshold, so every chunk counted
 * against the large-object budget and set off full background collections. In a 50 MiB fetch,
 * `perf` put a quarter of pwsh's CPU on its background-GC thread. Below 4 MiB these objects are
 * short-lived young ones. Measured with the 16 MiB budget, against .NET's two defaults (a new process
 * each, alternating): copies of 50 MiB 19.5–20.2 instead of 15.3–15.7 MiB/s, fetches 21.0–22.8
 * instead of 18.4–18.8, for 12–15 MB more peak resident memory in the server. It made no difference
 * to invokes.
 */
export const DEFAULT_GC_LARGE_OBJECT_THRESHOLD = 4 * 1024 * 1024

/** The options of {@link ProcessConnectionOptions} this module reads. */
export interface PwshGcOptions {
  readonly gcGen0Budget?: number | undefined
  readonly gcLargeObjectThreshold?: number | undefined
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** One setting: its option, .NET's names for it, the values accepted besides 0, and its default. */
interface GcSetting {
  readonly option: 'gcGen0Budget' | 'gcLargeObjectThreshold'
  readonly variables: readonly [string, string]
  /** .NET ignores a smaller value (GCgen0size) or raises it to this (GCLOHThreshold). */
  readonly min: number
  readonly max: number
  readonly fallback: number
}

const SETTINGS: readonly GcSetting[] = [
  {
    option: 'gcGen0Budget',
    variables: ['DOTNET_GCgen0size', 'COMPlus_GCgen0size'],
    min: 64 * 1024,
    max: 2 ** 32,
    fallback: DEFAULT_GC_GEN0_BUDGET,
  },
  {
    option: 'gcLargeObjectThreshold',
    variables: ['DOTNET_GCLOHThreshold', 'COMPlus_GCLOHThreshold'],
    min: 85_000,
    max: 2 ** 32,
    fallback: DEFAULT_GC_LARGE_OBJECT_THRESHOLD,
  },
]

/** @throws {InvalidArgumentError} when a setting is neither 0 nor an integer in its range. */
export function checkPwshGcOptions(options: PwshGcOptions): void {
  for (const s of SETTINGS) {
    const n = options[s.option]
    if (n === undefined || n === 0) continue
    if (!Number.isSafeInteger(n) || n < s.min || n > s.max)
      throw new InvalidArgumentError(`${s.option} must be 0 or an integer from ${s.min} to ${s.max}`)
  }
}

/**
 * Adds the settings to `env` (the child's environment being built, the caller's `env` already
 * merged in): each under its `DOTNET_` name, unless it is 0 or `env` has either of its names, or
 * the caller's `env` names either of them (with `undefined`: .NET's own).
 */
export function addPwshGcSettings(env: Record<string, string | undefined>, options: PwshGcOptions): void {
  for (const s of SETTINGS) {
    const value = options[s.option] ?? s.fallback
    const callerSets = s.variables.some(
      (name) => env[name] !== undefined || (options.env !== undefined && Object.hasOwn(options.env, name)),
    )
    if (value !== 0 && !callerSets) env[s.variables[0]] = value.toString(16)
  }
}
