// Tests for model/tokenizer.ts (CLIP BPE) and model/sha256.ts.
// Golden ids come from tools/reference/tokenizer_reference.py (our Python port of OpenAI's
// simple_tokenizer.py, without ftfy), frozen in test/fixtures/tokenizer/reference_ids.json.
import t from "tap";
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { sha256Hex } from "../../model/sha256.ts";
import {
  EOT_TOKEN, SOT_TOKEN, VOCAB_SHA256, SimpleTokenizer, basicClean, bytesToUnicode, checkVocabSha256,
  defaultTokenizer, htmlUnescape, loadVocabText, preTokenize, tokenize, whitespaceClean,
} from "../../model/tokenizer.ts";

interface Case { text: string; ids: number[]; numTokens: number; overflows: boolean }
interface DecodeCase { ids: number[]; text: string }
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/tokenizer/reference_ids.json", import.meta.url), "utf8"),
) as { cases: Case[]; decode: DecodeCase[] };

/** A one-line test name: TAP output breaks on U+2028 and control characters, so escape those. */
const label = (s: string) =>
  JSON.stringify(s.slice(0, 60)).replace(/[\p{C}\p{Zl}\p{Zp}]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);

t.test("sha256Hex matches FIPS 180-4 vectors and node:crypto", async (t) => {
  const enc = new TextEncoder();
  t.equal(sha256Hex(enc.encode("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  t.equal(sha256Hex(enc.encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  t.equal(
    sha256Hex(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  for (const n of [55, 56, 63, 64, 65, 1000]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 255); // around the padding edges
    t.equal(sha256Hex(bytes), createHash("sha256").update(bytes).digest("hex"), `length ${n}`);
  }
});

t.test("vocabulary file: hash check passes, and fails clearly when tampered", async (t) => {
  const text = loadVocabText();
  t.equal(text.length, 3130099);
  t.ok(text.startsWith('"bpe_simple_vocab_16e6.txt#version: 0.2\n'), "first '\"' restored");
  t.doesNotThrow(() => checkVocabSha256(text));
  const tampered = text.replace("\ni n\n", "\ni m\n");
  t.not(tampered, text);
  t.throws(() => checkVocabSha256(tampered), { message: /SHA-256 mismatch \(expected 67603cfd.*got [0-9a-f]{64}\)/ });
  t.throws(() => checkVocabSha256(text.slice(1)), { message: new RegExp(VOCAB_SHA256) });
  t.throws(() => new SimpleTokenizer(tampered).encode("cat"), { message: /SHA-256 mismatch/ }, "checked on first use");
});

t.test("byte table and vocabulary layout", async (t) => {
  const pairs = bytesToUnicode();
  t.equal(pairs.length, 256);
  t.equal(new Set(pairs.map(([b]) => b)).size, 256);
  t.equal(new Set(pairs.map(([, c]) => c)).size, 256);
  t.same(pairs[0], [0x21, "!"]);
  t.same(pairs[188], [0x00, "\u0100"], "first non-printable byte maps to U+0100");
  t.same(pairs.find(([b]) => b === 0x20), [0x20, "Ġ"], "space is Ġ, as in GPT-2");
  t.notOk(pairs.some(([, c]) => /\s/u.test(c)), "no symbol is whitespace");
  const tok = defaultTokenizer();
  t.equal(tok.decode([SOT_TOKEN]), "<|startoftext|>");
  t.equal(tok.decode([EOT_TOKEN]), "<|endoftext|>");
  t.equal(tok.decode([0, 256, 256 + 64]), "!! a ", "ids 256..511 are the bytes with </w>");
  t.throws(() => tok.decode([49408]), RangeError);
});

t.test("every reference string gives the Python ids (context 77, truncate = true)", async (t) => {
  t.ok(fixture.cases.length >= 220, `${fixture.cases.length} cases`);
  for (const c of fixture.cases) {
    t.same(tokenize(c.text, 77, true)[0], c.ids, label(c.text));
  }
});

t.test("over-long inputs throw without truncate; the others are unchanged by it", async (t) => {
  const long = fixture.cases.filter((c) => c.overflows);
  t.ok(long.length >= 5);
  for (const c of long) {
    t.throws(() => tokenize(c.text), { message: new RegExp(`has ${c.numTokens} tokens .*context length 77`) });
  }
  for (const c of fixture.cases.filter((c) => !c.overflows)) {
    const ids = tokenize(c.text)[0]!;
    if (ids.join() !== c.ids.join()) t.fail(`differs without truncate: ${label(c.text)}`);
  }
  const words = "a ".repeat(76);
  t.throws(() => tokenize(["ok", words]), { message: /input "a a a .*"… has 78 tokens/ }, "names the input");
  t.equal(tokenize("a ".repeat(75))[0]![76], EOT_TOKEN, "exactly 77 fits");
  const cut = tokenize(words, 77, true)[0]!;
  t.equal(cut.length, 77);
  t.equal(cut[76], EOT_TOKEN);
  t.equal(tokenize("a cat", 5)[0]!.length, 5);
  t.same(tokenize("a cat", 3, true)[0], [SOT_TOKEN, 320, EOT_TOKEN]);
  t.throws(() => tokenize("a", 0), RangeError);
});

t.test("batch shape and padding", async (t) => {
  const rows = tokenize(["a photo of a cat.", ""]);
  t.equal(rows.length, 2);
  t.same(rows[0]!.slice(0, 9), [SOT_TOKEN, 320, 1125, 539, 320, 2368, 269, EOT_TOKEN, 0]);
  t.same(rows[1]!.slice(0, 3), [SOT_TOKEN, EOT_TOKEN, 0]);
  t.ok(rows.every((r) => r.length === 77));
  t.same(tokenize("a photo of a cat."), [rows[0]]);
});

t.test("decode matches Python's decode, including broken UTF-8", async (t) => {
  const tok = defaultTokenizer();
  for (const d of fixture.decode) t.equal(tok.decode(d.ids), d.text, JSON.stringify(d.ids).slice(0, 60));
});

t.test("decode(encode(x)) round-trips normalised ASCII text", async (t) => {
  const tok = defaultTokenizer();
  // Normalised: lower case, and pre-split pieces separated by single spaces; each word gets a " ".
  for (const s of ["a photo of a cat .", "there is the building - other in the scene .", "it 's 2 0 2 4 !"]) {
    t.equal(tok.decode(tok.encode(s)), s + " ");
  }
  // For any printable ASCII text, decoding gives the pre-split pieces, each followed by a space.
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let n = 0; n < 300; n++) {
    const len = 1 + Math.floor(rand() * 40);
    const s = Array.from({ length: len }, () => String.fromCharCode(32 + Math.floor(rand() * 95))).join("");
    const want = preTokenize(s).map((p) => p + " ").join("");
    if (tok.decode(tok.encode(s)) !== want) t.fail(`round trip of ${label(s)}`);
  }
  t.pass("300 random ASCII strings");
});

t.test("cleaning follows Python, and the documented limits", async (t) => {
  t.equal(basicClean("  &amp;amp;  "), "&", "html.unescape twice, then strip");
  t.equal(basicClean("&amp;amp;amp;"), "&amp;", "only twice (ftfy would unescape once more)");
  t.equal(htmlUnescape("&#x1F600;&#65&ampx&#128;&#0;"), "😀A&x€\ufffd");
  t.equal(htmlUnescape("&alpha; &check;"), "&alpha; &check;", "named references outside our table stay");
  t.equal(whitespaceClean("\x85a\u00a0\tb\ufeff"), "a b\ufeff", "Python regex \\s: U+0085 yes, U+FEFF no");
  t.equal(basicClean("\x1cab\x1f"), "ab", "str.strip() removes U+001C..U+001F");
  t.same(preTokenize("It's <|endoftext|> 12"), ["it", "'s", "<|endoftext|>", "1", "2"]);
  t.same(tokenize("it’s")[0]!.slice(0, 6), [SOT_TOKEN, 585, 728, 503, 338, EOT_TOKEN], "curly quote: not the 's contraction (568) that ftfy would give");
});
