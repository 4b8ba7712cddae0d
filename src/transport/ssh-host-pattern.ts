/**
 * OpenSSH host patterns, the one matcher behind `known_hosts` host fields (sshd(8) "SSH_KNOWN_HOSTS
 * FILE FORMAT"), ssh_config `Host` lines (ssh_config(5) "PATTERNS") and `Include` file names:
 *
 * - `*` matches any run of characters (also none), `?` exactly one; everything else, `[` and `]`
 *   included, is literal. Host names compare case-insensitively, as `ssh` lower-cases them.
 * - A pattern list selects a name when some pattern matches it and no `!`-negated one does (a negated
 *   match alone selects nothing). known_hosts writes the list comma-separated in one field
 *   (`*.example,!bad.example`); a `Host` line gives each pattern as its own word.
 * - known_hosts looks a host up as `host` on port 22 and as `[host]:port` on any other port.
 *
 * Matching is linear: OpenSSH's `match_pattern` backtracks (exponential on `*a*a*a…b`) and a regex
 * built from the pattern does the same. Here a pattern is split at its `*`s into fixed-length
 * segments; the first must match the start of the name, the last its end, and the ones between are
 * found left to right, each at its leftmost place after the previous (leaving the most room can never
 * lose a match). A segment of up to 8 characters is tried at each start, a longer literal one is found
 * with Knuth–Morris–Pratt, a longer one with `?` inside with the bit-parallel Shift-And automaton;
 * each search resumes where the previous one ended, so a name is read once per pattern, and nothing
 * is copied or split: O(|pattern| + |name|) time, times ⌈L/32⌉ for the longest segment of L > 8
 * characters with a `?` between literal characters (`?` at a segment's ends costs nothing). Letters
 * fold per character (ASCII, and other characters whose lower case is one UTF-16 unit).
 *
 * ```ts
 * matchPatternList('*.example,!bad.example'.split(','), 'web.example')   // 'match'
 * matchPatternList(['web', '!bad.lab'], 'bad.lab')                          // 'negated'
 * wildcardMatch('10.0.0.?', '10.0.0.7')                                    // true
 * ```
 *
 * @module
 */

/** Options of {@link wildcardMatch}. */
export interface WildcardOptions {
  /** Compare characters exactly (file names); default false: case-insensitive (host names). */
  readonly caseSensitive?: boolean | undefined
}

/** What a pattern list says about a name (OpenSSH's `match_pattern_list`: 1, -1, 0). */
export type PatternListResult = 'match' | 'negated' | 'none'

const QUESTION = 0x3f // '?'
const BANG = 0x21 // '!'
const STAR = 0x2a // '*'
/** Segments up to this long are searched by trying each start (no tables to build). */
const SHORT_SEGMENT = 8

/** Maps a UTF-16 code unit to the one it compares as. */
type Fold = (c: number) => number

const exact: Fold = (c) => c

const unicodeLower = new Map<number, number>()
/**
 * Lower case of one code unit: ASCII directly, others through `toLowerCase` when that gives one code
 * unit (cached). Folding per character keeps matching free of copies of the name and pattern.
 */
const lower: Fold = (c) => {
  if (c < 0x80) return c >= 0x41 && c <= 0x5a ? c + 0x20 : c
  let l = unicodeLower.get(c)
  if (l === undefined) {
    const s = String.fromCharCode(c).toLowerCase()
    l = s.length === 1 ? s.charCodeAt(0) : c
    unicodeLower.set(c, l)
  }
  return l
}

/**
 * Whether `pattern` (`*` any run, `?` one character) matches all of `text`.
 *
 * @example
 * ```ts
 * wildcardMatch('*.example', 'a.b.example')   // true
 * wildcardMatch('a*b*c', 'aXXbYY')             // false
 * ```
 */
export function wildcardMatch(pattern: string, text: string, options: WildcardOptions = {}): boolean {
  return rangeMatches(pattern, 0, pattern.length, text, options.caseSensitive === true ? exact : lower)
}

/**
 * Looks `name` up in a list of patterns, each optionally negated with a leading `!`: `negated` when a
 * negated pattern matches (that decides, whatever else matches), else `match` when a plain one does,
 * else `none`. Empty patterns are skipped.
 *
 * @example
 * ```ts
 * matchPatternList(['*.lab', '!bad.lab'], 'bad.lab')   // 'negated'
 * ```
 */
export function matchPatternList(patterns: Iterable<string>, name: string): PatternListResult {
  let result: PatternListResult = 'none'
  for (const pattern of patterns) {
    const r = listItem(pattern, 0, pattern.length, name, result)
    if (r === 'negated') return r
    result = r
  }
  return result
}

/**
 * Whether a comma-separated pattern list (a known_hosts host field) selects `name`: some pattern
 * matches and no `!` pattern does. Spaces around the commas are ignored.
 *
 * @example
 * ```ts
 * patternListMatch('*.example,!bad.example', 'good.example')   // true
 * patternListMatch('!bad.example', 'other')                     // false: nothing selected it
 * ```
 */
export function patternListMatch(list: string, name: string): boolean {
  let result: PatternListResult = 'none'
  for (let start = 0; start <= list.length;) {
    let comma = list.indexOf(',', start)
    if (comma < 0) comma = list.length
    let ps = start
    let pe = comma
    while (ps < pe && isSpace(list.charCodeAt(ps))) ps++
    while (pe > ps && isSpace(list.charCodeAt(pe - 1))) pe--
    result = listItem(list, ps, pe, name, result)
    if (result === 'negated') return false
    start = comma + 1
  }
  return result === 'match'
}

/**
 * The name known_hosts lists a host under: `host` (lower-cased) for port 22, else `[host]:port`, as
 * `ssh` writes it. Brackets around an IPv6 `host` are removed first.
 *
 * @example
 * ```ts
 * knownHostsName('Server.Example', 22)   // 'server.example'
 * knownHostsName('[::1]', 2222)           // '[::1]:2222'
 * ```
 */
export function knownHostsName(host: string, port: number): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  return port === 22 ? h.toLowerCase() : `[${h.toLowerCase()}]:${port}`
}

/** One pattern of a list, list[ps, pe), applied to what the patterns before it said. */
function listItem(
  list: string,
  ps: number,
  pe: number,
  name: string,
  sofar: PatternListResult,
): PatternListResult {
  if (ps === pe) return sofar
  if (list.charCodeAt(ps) === BANG) return rangeMatches(list, ps + 1, pe, name, lower) ? 'negated' : sofar
  return sofar === 'none' && rangeMatches(list, ps, pe, name, lower) ? 'match' : sofar
}

/** What `String.prototype.trim` removes. */
function isSpace(c: number): boolean {
  return (
    (c >= 0x09 && c <= 0x0d) ||
    c === 0x20 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  )
}

/** Whether the pattern p[ps, pe) matches all of `text` (the algorithm of the module comment). */
function rangeMatches(p: string, ps: number, pe: number, text: string, fold: Fold): boolean {
  // segments are the ranges between '*'s: [ps, firstStar) … [lastStar + 1, pe)
  let firstStar = ps
  while (firstStar < pe && p.charCodeAt(firstStar) !== STAR) firstStar++
  if (firstStar === pe) {
    return pe - ps === text.length && segmentMatchesAt(p, ps, pe, text, 0, fold)
  }
  const lastStar = p.lastIndexOf('*', pe - 1)
  const end = text.length - (pe - lastStar - 1)
  if (firstStar - ps > end) return false
  if (
    !segmentMatchesAt(p, ps, firstStar, text, 0, fold) ||
    !segmentMatchesAt(p, lastStar + 1, pe, text, end, fold)
  ) {
    return false
  }
  let pos = firstStar - ps
  for (let start = firstStar + 1; start <= lastStar;) {
    const star = p.indexOf('*', start)
    if (star > start) {
      const found = findSegment(p, start, star, text, pos, end, fold)
      if (found < 0) return false
      pos = found + (star - start)
    }
    start = star + 1
  }
  return true
}

/** Whether the `*`-free segment p[ps, pe) matches `text` at `at` (`?` matches any one character). */
function segmentMatchesAt(p: string, ps: number, pe: number, text: string, at: number, fold: Fold): boolean {
  if (at < 0 || at + (pe - ps) > text.length) return false
  for (let j = ps, i = at; j < pe; j++, i++) {
    const c = p.charCodeAt(j)
    if (c !== QUESTION && fold(c) !== fold(text.charCodeAt(i))) return false
  }
  return true
}

/**
 * The leftmost start ≥ `from` where the `*`-free segment p[ps, pe) matches `text` and ends by `end`,
 * or -1. Reads `text` from `from` up to the end of the match (or `end`).
 */
function findSegment(
  p: string,
  ps: number,
  pe: number,
  text: string,
  from: number,
  end: number,
  fold: Fold,
): number {
  // `?`s at either end only need characters to be there
  let cs = ps
  while (cs < pe && p.charCodeAt(cs) === QUESTION) cs++
  let ce = pe
  while (ce > cs && p.charCodeAt(ce - 1) === QUESTION) ce--
  const lead = cs - ps
  const coreEnd = end - (pe - ce)
  let hasQuestion = false
  for (let j = cs; j < ce && !hasQuestion; j++) hasQuestion = p.charCodeAt(j) === QUESTION
  const start = from + lead
  let at: number
  if (cs === ce) at = start <= coreEnd ? start : -1
  else if (ce - cs <= SHORT_SEGMENT) at = naiveSearch(p, cs, ce, text, start, coreEnd, fold)
  else if (hasQuestion) at = shiftAndSearch(p, cs, ce, text, start, coreEnd, fold)
  else at = kmpSearch(p, cs, ce, text, start, coreEnd, fold)
  return at < 0 ? -1 : at - lead
}

/**
 * Tries every start in turn: for a segment of at most {@link SHORT_SEGMENT} characters this costs at
 * most that many comparisons per character of `text`, and allocates nothing.
 */
function naiveSearch(
  p: string,
  ps: number,
  pe: number,
  text: string,
  from: number,
  end: number,
  fold: Fold,
): number {
  for (let at = from; at + (pe - ps) <= end; at++) if (segmentMatchesAt(p, ps, pe, text, at, fold)) return at
  return -1
}

/** The folded needle and failure table of {@link kmpSearch} (reused: one search runs at a time). */
let kmpScratch = new Int32Array(64)

/** Knuth–Morris–Pratt: the first start ≥ `from` of the literal p[ps, pe) ending by `end`, or -1. */
function kmpSearch(
  p: string,
  ps: number,
  pe: number,
  text: string,
  from: number,
  end: number,
  fold: Fold,
): number {
  const m = pe - ps
  if (end - from < m) return -1
  if (kmpScratch.length < 2 * m) kmpScratch = new Int32Array(2 * m)
  // needle: the folded segment at [0, m); failure at [m, 2m): failure[j] is the length of the longest
  // proper border of needle[0..j]
  const t = kmpScratch
  for (let j = 0; j < m; j++) t[j] = fold(p.charCodeAt(ps + j))
  t[m] = 0
  for (let j = 1, k = 0; j < m; j++) {
    const c = t[j] as number
    while (k > 0 && c !== t[k]) k = t[m + k - 1] as number
    if (c === t[k]) k++
    t[m + j] = k
  }
  for (let i = from, k = 0; i < end; i++) {
    const c = fold(text.charCodeAt(i))
    while (k > 0 && c !== t[k]) k = t[m + k - 1] as number
    if (c === t[k]) k++
    if (k === m) return i - m + 1
  }
  return -1
}

/**
 * Shift-And (Baeza-Yates–Gonnet) over ⌈m/32⌉ words: the first start ≥ `from` of p[ps, pe) (with `?`
 * matching any character) ending by `end`, or -1. Bit j of the state is set when the segment's first
 * j + 1 characters match the text ending at the current character.
 */
function shiftAndSearch(
  p: string,
  ps: number,
  pe: number,
  text: string,
  from: number,
  end: number,
  fold: Fold,
): number {
  const m = pe - ps
  if (end - from < m) return -1
  const words = (m + 31) >>> 5
  // the positions any character matches; a character's own mask adds its positions (built on first use)
  const anyMask = new Uint32Array(words)
  const positions = new Map<number, number[]>()
  for (let j = 0; j < m; j++) {
    const c = p.charCodeAt(ps + j)
    if (c === QUESTION) {
      anyMask[j >>> 5] = (anyMask[j >>> 5] as number) | (1 << (j & 31))
    } else {
      const list = positions.get(fold(c))
      if (list === undefined) positions.set(fold(c), [j])
      else list.push(j)
    }
  }
  const masks = new Map<number, Uint32Array>()
  const maskOf = (c: number): Uint32Array => {
    let mask = masks.get(c)
    if (mask === undefined) {
      mask = anyMask.slice()
      for (const j of positions.get(c) ?? []) mask[j >>> 5] = (mask[j >>> 5] as number) | (1 << (j & 31))
      masks.set(c, mask)
    }
    return mask
  }
  const state = new Uint32Array(words)
  const lastWord = (m - 1) >>> 5
  const lastBit = 1 << ((m - 1) & 31)
  for (let i = from; i < end; i++) {
    const mask = maskOf(fold(text.charCodeAt(i)))
    let carry = 1 // a match may start at every character
    for (let w = 0; w < words; w++) {
      const v = state[w] as number
      state[w] = ((v << 1) | carry) & (mask[w] as number)
      carry = v >>> 31
    }
    if (((state[lastWord] as number) & lastBit) !== 0) return i - m + 1
  }
  return -1
}
