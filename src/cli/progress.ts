/**
 * Progress bars on a terminal: the byte-transfer bar of `psrp copy`/`fetch` (bytes, rate, ETA) and
 * PowerShell progress records (`Write-Progress`) in `psrp shell`/`run`. The formatting functions are
 * pure (time comes in as an argument); {@link ProgressLine} draws one self-replacing line on a TTY.
 *
 * @module
 */

/** Binary size text: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  if (!(n >= 0) || !Number.isFinite(n)) return '? B'
  if (n < 1024) return `${Math.round(n)} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${units[i] as string}`
}

/** Duration text for an ETA: `0:07`, `12:05`, `1:02:03`; `--:--` when unknown. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--'
  const s = Math.ceil(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m)
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(sec).padStart(2, '0')}`
}

/** A bar of `width` cells filled to `fraction` (0..1): `[=====>    ]`. */
export function bar(fraction: number, width: number): string {
  const inner = Math.max(0, width - 2)
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0))
  const full = Math.floor(f * inner)
  const head = full < inner && f > 0 ? '>' : ''
  return `[${'='.repeat(full)}${head}${' '.repeat(inner - full - head.length)}]`
}

/** The state of a byte transfer, as the transfer's progress callback reports it. */
export interface TransferState {
  /** Bytes done so far. */
  readonly bytes: number
  /** Total bytes, when known. */
  readonly totalBytes?: number | undefined
  /** Milliseconds since the transfer started. */
  readonly elapsedMs: number
  /** A label (the file name). */
  readonly label?: string | undefined
}

/**
 * One line of transfer progress fitting `columns` cells:
 * `file.bin  45% [=====>     ] 4.5 MiB/10.0 MiB  1.2 MiB/s  ETA 0:05`.
 * The rate is the average since the start; the ETA is the remaining bytes at that rate. Without a
 * total, the percentage, bar and ETA are left out.
 */
export function formatTransfer(state: TransferState, columns: number): string {
  const { bytes, totalBytes, elapsedMs } = state
  const rate = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0
  const rateText = elapsedMs > 0 ? `${formatBytes(rate)}/s` : '-- B/s'
  const known = totalBytes !== undefined && totalBytes >= 0
  const amount = known ? `${formatBytes(bytes)}/${formatBytes(totalBytes)}` : formatBytes(bytes)
  const tail = known
    ? `${amount}  ${rateText}  ETA ${formatDuration(rate > 0 ? (totalBytes - bytes) / rate : Number.NaN)}`
    : `${amount}  ${rateText}`
  const fraction = known ? (totalBytes === 0 ? 1 : bytes / totalBytes) : 0
  const pct = known ? `${String(Math.floor(fraction * 100)).padStart(3)}% ` : ''
  const fixed = pct.length + 1 + tail.length
  let label = state.label ?? ''
  // the bar takes what is left after label, percentage and numbers, between 10 and 40 cells
  const room = columns - fixed - (label === '' ? 0 : label.length + 2)
  let barWidth = known ? Math.min(40, room) : 0
  if (known && barWidth < 10) {
    barWidth = Math.max(0, Math.min(40, columns - fixed - 2))
    const labelRoom = columns - fixed - barWidth - 2
    label = labelRoom >= 4 ? truncate(label, labelRoom) : ''
    if (barWidth < 10) barWidth = 0
  }
  const parts = [
    label === '' ? '' : `${label}  `,
    pct,
    barWidth > 0 ? `${bar(fraction, barWidth)} ` : '',
    tail,
  ]
  return truncate(parts.join(''), columns)
}

/** Cuts `text` to `max` cells, marking the cut with `…`. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return ''
  if (text.length <= max) return text
  return `${text.slice(0, Math.max(0, max - 1))}…`
}

/** What {@link formatProgressRecord} reads from a `ProgressRecord`. */
export interface ProgressView {
  readonly activity?: string | undefined
  readonly statusDescription?: string | undefined
  readonly currentOperation?: string | undefined
  readonly percentComplete?: number | undefined
  readonly secondsRemaining?: number | undefined
}

/**
 * One line for a PowerShell progress record, fitting `columns`:
 * `Copying  [=====>     ] 45%  file 3 of 7  0:12 left`. A negative percentage (unknown) leaves the
 * bar out.
 */
export function formatProgressRecord(record: ProgressView, columns: number): string {
  const activity = record.activity ?? ''
  const status = record.statusDescription ?? ''
  const pct = record.percentComplete ?? -1
  const left =
    record.secondsRemaining !== undefined && record.secondsRemaining >= 0
      ? `  ${formatDuration(record.secondsRemaining)} left`
      : ''
  const op =
    record.currentOperation !== undefined && record.currentOperation !== ''
      ? `  ${record.currentOperation}`
      : ''
  if (pct < 0) return truncate(`${activity}  ${status}${op}${left}`, columns)
  const barWidth = Math.max(10, Math.min(40, Math.floor(columns / 3)))
  const head = `${activity}  ${bar(pct / 100, barWidth)} ${Math.min(100, Math.round(pct))}%`
  return truncate(`${head}  ${status}${op}${left}`, columns)
}

/** A writable terminal stream (process.stderr or a fake in tests). */
export interface TerminalStream {
  write(text: string): boolean
  readonly isTTY?: boolean | undefined
  readonly columns?: number | undefined
}

/**
 * One line at the bottom of a terminal that redraws in place (`\r` + erase line). Draws nothing when
 * the stream is not a TTY. Redraws are limited to one every `minIntervalMs` unless forced.
 */
export class ProgressLine {
  readonly #stream: TerminalStream
  readonly #minIntervalMs: number
  readonly #now: () => number
  #shown = false
  #last = Number.NEGATIVE_INFINITY

  constructor(stream: TerminalStream, options: { minIntervalMs?: number; now?: () => number } = {}) {
    this.#stream = stream
    this.#minIntervalMs = options.minIntervalMs ?? 100
    this.#now = options.now ?? (() => performance.now())
  }

  /** Whether anything is drawn at all (the stream is a TTY). */
  get enabled(): boolean {
    return this.#stream.isTTY === true
  }

  /** Terminal width (default 80). */
  get columns(): number {
    return this.#stream.columns ?? 80
  }

  /** Whether a line is currently drawn. */
  get shown(): boolean {
    return this.#shown
  }

  /** Draws `text` in place of the current line (rate-limited unless `force`). */
  draw(text: string, force = false): void {
    if (!this.enabled) return
    const t = this.#now()
    if (!force && t - this.#last < this.#minIntervalMs) return
    this.#last = t
    this.#stream.write(`\r\x1b[2K${truncate(text, this.columns - 1)}`)
    this.#shown = true
  }

  /** Erases the line, so normal output can follow. */
  clear(): void {
    if (!this.#shown) return
    this.#stream.write('\r\x1b[2K')
    this.#shown = false
  }

  /** Draws `text` a last time and moves to the next line. */
  finish(text: string): void {
    if (!this.enabled) return
    this.#stream.write(`\r\x1b[2K${truncate(text, this.columns - 1)}\n`)
    this.#shown = false
  }
}
