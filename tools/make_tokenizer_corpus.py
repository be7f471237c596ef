#!/usr/bin/env python3
"""Writes tests/data/tokenizer-corpus.jsonl: varied lines for tokenizer conformance tests.

Deterministic (seeded). Each line is {"id": N, "text": ...}. The hand-written seeds cover the
hard cases (contractions, digit runs, whitespace runs, scripts, emoji sequences, NFD text, code,
URLs, special-token strings); random mixtures of them fill the rest.
"""
import json
import random
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Hello, world!",
    "It was the best of times, it was the worst of times.",
    "She sells sea-shells by the sea-shore; the shells she sells are sea-shells, I'm sure.",
    "Mr. O'Neil paid $1,234.56 on 2024-03-15 at 9:45 a.m. (EST).",
    "\"Quoted,\" he said -- and then: 'single quotes' too...",
    "E-mail me at someone@example.com or call +1 (555) 010-9999.",
    "Dr. Smith's 3rd-floor office is #42B; the fee is 15% off.",
    "ALL CAPS SENTENCE WITH NUMBERS 123 AND SYMBOLS &*^%",
    "mixedCase camelCase snake_case kebab-case SCREAMING_SNAKE",
    "Ellipsis… em—dash – en-dash “curly quotes” ‘single’ «guillemets»",
    "A sentence ending without punctuation",
    "  leading spaces and trailing spaces  ",
    "Tab\tseparated\tvalues\there",
]

CONTRACTIONS = [
    "I'm sure you're right, but we'll see what they've done.",
    "Don't, won't, can't, shouldn't, wouldn't've, y'all'd've.",
    "IT'S LOUD: DON'T SHOUT, WE'RE HERE, THEY'LL COME, I'D GO, YOU'VE SEEN.",
    "She'S He'Ll We'Re They'Ve I'M You'D",
    "'tis the season; 'twas the night; rock 'n' roll",
    "It’s curly: don’t, won’t, I’m (U+2019 apostrophes).",
    "o'clock ma'am ne'er-do-well jack-o'-lantern",
    "The dog's bone, the dogs' bones, James's book.",
    "'s 't 're 've 'm 'll 'd at the start",
    "x's y'd z'll 1's 2'm",
]

WHITESPACE = [
    "",
    " ",
    "  ",
    "   ",
    "\t",
    "\n",
    "\n\n",
    "\r\n",
    "\r\n\r\n",
    " \n ",
    "\t\t\tindented with tabs",
    "line one\nline two\n\nline four",
    "windows\r\nline\r\nendings\r\n",
    "trailing newline\n",
    "many    spaces     between      words",
    "space before newline   \n   space after",
    "mixed \t \n \r\n \t  whitespace",
    "\n\n\n\n\n\n\n\n",
    "                                                                ",
    "a\u00a0non-breaking\u00a0space",
    "ideographic\u3000space\u3000here",
    "thin\u2009space and en\u2002space and em\u2003space",
    "next\u0085line and line\u2028separator and para\u2029graph",
    "\ufeffbyte order mark at start",
    "zero\u200bwidth\u200cnon\u200djoiner",
    "vertical\x0btab and form\x0cfeed",
    "\x01\x02\x03 control characters \x1f\x7f",
]

SCRIPTS = [
    "你好，世界！今天天气很好。",
    "我爱自然语言处理和机器学习。",
    "中华人民共和国成立于1949年10月1日。",
    "日本語のテキスト：ひらがな、カタカナ、漢字が混ざっています。",
    "東京は日本の首都です。カタカナ語：コンピューター、インターネット。",
    "ｶﾀｶﾅ半角 and ｆｕｌｌｗｉｄｔｈ ＡＳＣＩＩ １２３",
    "한국어 텍스트입니다. 안녕하세요, 세계!",
    "대한민국의 수도는 서울입니다 2024년",
    "مرحبا بالعالم! هذه جملة باللغة العربية.",
    "العدد ١٢٣٤٥ بالأرقام العربية الهندية",
    "नमस्ते दुनिया! यह हिन्दी में एक वाक्य है।",
    "संख्या १२३४५ देवनागरी अंकों में",
    "สวัสดีชาวโลก นี่คือประโยคภาษาไทย",
    "ตัวเลขไทย ๑๒๓๔๕",
    "שלום עולם! זה משפט בעברית.",
    "Привет, мир! Это предложение на русском языке.",
    "Γειά σου Κόσμε! Αυτή είναι μια ελληνική πρόταση.",
    "Ελληνικά: ΑΒΓΔ αβγδ άέήίόύώ",
    "Tiếng Việt có dấu: Xin chào thế giới, cảm ơn nhiều.",
    "Türkçe: İstanbul, ığdır, ŞEKER, çiçek",
    "Deutsch: Straße, Größe, Übermäßig, ÄÖÜ äöü ß ẞ",
    "Français : « Ça va ? » — Où est l'hôtel ?",
    "Español: ¿Qué tal? ¡Muy bien! Año, niño, señor.",
    "Polski: Zażółć gęślą jaźń.",
    "ქართული ენა",
    "Հայերեն լեզու",
    "አማርኛ ቋንቋ",
    "தமிழ் மொழி",
    "বাংলা ভাষা",
    "ગુજરાતી ભાષા",
    "ພາສາລາວ",
    "မြန်မာဘာသာ",
    "ខ្មែរ",
    "ᠮᠣᠩᠭᠣᠯ",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕞𝕒𝕥𝕙 𝒶𝓁𝓅𝒽𝒶𝒷𝑒𝓉",
    "Math: ∀x∈ℝ, ∃y: x²+y²=z², ∑ᵢ aᵢ ≤ ∞, √2 ≈ 1.414, π≠3",
    "Currency: $100 €200 £300 ¥400 ₹500 ₩600 ₿0.01",
    "Arrows and boxes: ← ↑ → ↓ ⇒ ⇔ ┌─┐ │ │ └─┘ ░▒▓█",
]

EMOJI = [
    "😀😃😄😁😆😅😂🤣",
    "I love it ❤️ so much!!! 🎉🎉🎉",
    "Family: 👨‍👩‍👧‍👦 and 👩‍❤️‍💋‍👨",
    "Skin tones: 👋🏻 👋🏼 👋🏽 👋🏾 👋🏿",
    "Flags: 🇺🇸 🇯🇵 🇩🇪 🇨🇳 🇰🇷 🏴‍☠️ 🏳️‍🌈",
    "Keycaps: 1️⃣ 2️⃣ #️⃣ *️⃣",
    "Professions: 👩🏽‍💻 🧑🏿‍🚀 👨🏻‍🍳",
    "Hands 🤝🏻 and 🫶🏾 with ZWJ 🧑‍🤝‍🧑",
    "text😀text😀text",
    "emoji at end 🚀",
]

NFD = [unicodedata.normalize("NFD", s) for s in [
    "Amélie café naïve résumé façade",
    "Crème brûlée à la française",
    "Việt Nam, Hà Nội, Đà Nẵng",
    "Ångström, Øresund, Ærø",
    "Ñandú, pingüino, acción",
    "한국어 자모 분해",
    "ﬁ ligature and ½ fraction and Ⅻ numeral",
]] + [
    "e\u0301 a\u0300 o\u0302 u\u0308 n\u0303",
    "combining overload: a\u0301\u0302\u0303\u0304\u0305\u0306",
    "Zalgo: Z\u0351\u036b\u0343a\u0313\u0356l\u0350g\u0346o\u0352",
    "precomposed é vs decomposed e\u0301 side by side",
]

CODE = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "import numpy as np\nx = np.arange(10, dtype=np.float32).reshape(2, 5)\nprint(x.T @ x)",
    "class Foo(Bar):\n\tdef __init__(self, *args, **kwargs):\n\t\tsuper().__init__(*args, **kwargs)",
    "#include <vector>\nint main() {\n  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) x *= 2;\n  return 0;\n}",
    "template <typename T> T max(T a, T b) { return a > b ? a : b; }",
    "const f = async (x) => { await fetch(`/api/${x}?q=1&r=2`); };",
    "let mut v: Vec<u8> = Vec::with_capacity(1024); v.push(0xFF);",
    "fn main() -> Result<(), Box<dyn std::error::Error>> { Ok(()) }",
    "SELECT id, name FROM users WHERE age >= 18 AND name LIKE '%son' ORDER BY id DESC;",
    "<html><head><title>Test</title></head><body><p class=\"x\">Hi &amp; bye</p></body></html>",
    "{\"key\": \"value\", \"n\": 42, \"list\": [1, 2.5, -3e10, true, null]}",
    "for i in $(seq 1 10); do echo \"$i\" >> /tmp/out.txt; done && cat /tmp/out.txt | wc -l",
    "if (a && b || !c) { x += y << 2; z = w >>> 3; }",
    "x = [i**2 for i in range(100) if i % 3 == 0]  # list comprehension",
    "    indented code line with trailing spaces    ",
    "/* block comment */ // line comment\n# shell comment\n-- sql comment",
    "a==b!=c<=d>=e&&f||g::h->i=>j...k",
    "@decorator\ndef f(): pass",
    "printf(\"%d %s %.3f\\n\", n, str, val);",
    "regex = r'^(?:[a-z0-9!#$%&*+/=?^_`{|}~-]+)@example\\.com$'",
    "matrix[i][j] = matrix[i-1][j-1] + 1;",
    "go func() { ch <- struct{}{} }()",
    "\\begin{equation} E = mc^2 \\end{equation}",
    "$ ls -la ~/.config | grep -v '^d'",
]

URLS = [
    "https://www.example.com/path/to/page?query=1&lang=en#section-2",
    "http://localhost:8080/api/v1/users/123/profile",
    "ftp://files.example.org/pub/data.tar.gz",
    "See https://github.com/owner/repo/issues/42 for details.",
    "mailto:first.last+tag@sub.example.co.uk",
    "www.test.org/search?q=hello%20world&safe=off",
    "https://ja.wikipedia.org/wiki/日本語 and https://ko.wikipedia.org/wiki/한국어",
    "C:\\Users\\Name\\Documents\\file.txt and /usr/local/bin/dawn",
    "user@host:~/src$ git commit -m \"fix: handle UTF-8\"",
    "IPv4 192.168.0.1:443 and IPv6 [2001:db8::1]:80",
]

SPECIAL = [
    "<|im_start|>user\nHello<|im_end|>\n<|im_start|>assistant\n",
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜><think>\nhmm\n</think>\n\nHello",
    "text <think> reasoning </think> answer",
    "<tool_call>{\"name\": \"f\"}</tool_call>",
    "<|endoftext|><|endoftext|>",
    "almost special: <|im_sta and <|eot_i and <｜User and </thin",
    "<<|im_end|>> nested brackets <｜end▁of▁sentence｜>|>",
    "<|reserved_special_token_5|> and <|finetune_right_pad_id|>",
    "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    "<｜fim▁begin｜>code<｜fim▁hole｜>more<｜fim▁end｜>",
]

# Characters added to Unicode after the tables in Debian 12's PCRE2 (Unicode 14).
NEW_UNICODE = [
    "Unicode 15 emoji: 🫨 🩷 🫎 🪽",
    "Unicode 15.1 CJK ext I: 𮯰𮯱",
]


def numbers(rng):
    out = []
    for n in range(1, 41):
        out.append("".join(rng.choice("0123456789") for _ in range(n)))
    out += [
        "0", "00", "007", "3.14159265358979", "-42", "+17", "1e10", "6.022e23", "1,000,000", "1.000.000,00",
        "12:34:56", "2024-12-31T23:59:59Z", "v1.2.3-rc.4", "0x1F 0b1010 0o777", "50% 1/2 3/4 2^10",
        "Call 1-800-555-0199 now", "Room 101, floor 12, building 3", "pi=3.14, e=2.71, phi=1.618",
        "123abc456def789", "abc123def456", "1st 2nd 3rd 4th 21st 102nd", "$1 $10 $100 $1000 $10000",
        "١٢٣ ٤٥٦", "१२३ ४५६", "一二三 四五六", "①②③ ⑴⑵⑶ ⅠⅡⅢ", "１２３４５６７８９０",
    ]
    return out


def long_lines(rng):
    words = " ".join(ENGLISH + CONTRACTIONS)
    return [
        words * 8,
        "a" * 3000,
        "ab" * 1500,
        " " * 500 + "x",
        "\n" * 300,
        "1234567890" * 200,
        "你好世界" * 400,
        "😀" * 500,
        "-" * 1000 + "=" * 1000,
        "".join(rng.choice(SCRIPTS + EMOJI + CODE) for _ in range(60)),
    ]


def heldout_sentences():
    text = (ROOT / "tests/data/heldout-excerpt.txt").read_text(encoding="utf-8")
    parts = [p.strip() + "." for p in text.replace("\n", " ").split(". ") if len(p.strip()) > 20]
    return parts[:120]


def mixtures(rng, pools, n):
    out = []
    seps = [" ", "", "\n", "\t", "  ", ", ", "\r\n", " - "]
    for _ in range(n):
        k = rng.randint(2, 5)
        items = [rng.choice(rng.choice(pools)) for _ in range(k)]
        # Cut items at random character positions so boundaries land anywhere.
        items = [s[rng.randint(0, len(s) // 2):] if s and rng.random() < 0.4 else s for s in items]
        out.append(rng.choice(seps).join(items))
    return out


def main():
    rng = random.Random(20261122)
    nums = numbers(rng)
    seeds = (ENGLISH + CONTRACTIONS + WHITESPACE + SCRIPTS + EMOJI + NFD + CODE + URLS + SPECIAL + NEW_UNICODE +
             nums + long_lines(rng) + heldout_sentences())
    pools = [ENGLISH, CONTRACTIONS, WHITESPACE, SCRIPTS, EMOJI, NFD, CODE, URLS, SPECIAL, nums]
    lines = seeds + mixtures(rng, pools, 1100 - len(seeds))
    out = ROOT / "tests/data/tokenizer-corpus.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        for i, text in enumerate(lines):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} lines to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
