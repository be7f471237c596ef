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


def cps(first, last):
    """The characters first..last (code points, inclusive)."""
    return "".join(chr(c) for c in range(first, last + 1))


# Unicode 15.0, 15.1 and 16.0 characters in running text: the categories Hugging Face's regexes see
# (Unicode 16.0) decide where letters, digits, marks, punctuation and symbols split. Appended after the
# other lines (ids 1100 on), so adding them left every earlier line and id as it was.
UNICODE_15_16 = [
    # 15.0: Kawi letters with vowel signs and virama, Kawi digits and punctuation
    f"Kawi inscription: {cps(0x11F04, 0x11F08)}\U00011F34{cps(0x11F12, 0x11F14)}\U00011F41\U00011F15 "
    f"dated {cps(0x11F51, 0x11F53)}\U00011F43 (year 1{cps(0x11F50, 0x11F51)})",
    f"abc{cps(0x11F05, 0x11F07)}def 123{cps(0x11F55, 0x11F58)}456, done\U00011F44",
    f"\U00011F00\U00011F02\U00011F03 leading signs, then {cps(0x11F20, 0x11F23)}\U00011F36\U00011F5A!",
    # 15.0: Nag Mundari letters, modifier letter, marks, digits
    f"Nag Mundari: {cps(0x1E4D0, 0x1E4D4)}\U0001E4EC {cps(0x1E4D5, 0x1E4D8)}\U0001E4EB, "
    f"count {cps(0x1E4F1, 0x1E4F4)} and 2024",
    f"({cps(0x1E4DA, 0x1E4DC)}) [{cps(0x1E4F5, 0x1E4F9)}] \"{cps(0x1E4E0, 0x1E4E3)}\U0001E4ED\U0001E4EE\"",
    # 15.0: Kaktovik numerals (No) among ASCII digits and letters
    f"Kaktovik numerals {cps(0x1D2C0, 0x1D2C9)} and {cps(0x1D2CA, 0x1D2D3)}",
    f"x={cps(0x1D2C1, 0x1D2C5)}19{cps(0x1D2C7, 0x1D2C8)}; y=7\U0001D2D0\U0001D2D1abc",
    # 15.0 CJK Extension H, 15.1 Extension I, with ordinary Han, kana and Latin
    f"中文{cps(0x31350, 0x31354)}漢字 and ひらがな{cps(0x31360, 0x31362)}カタカナ",
    f"扩展H区：{cps(0x323A0, 0x323AF)}，扩展I区：{cps(0x2EBF0, 0x2EBF9)}。",
    f"Names like 王{chr(0x2EC00)}明 or 李{chr(0x31400)}华 (2023年) need Unicode 15.1.",
    f"{cps(0x2EE50, 0x2EE5D)}123{cps(0x31350, 0x31351)}abc",
    # 15.1 ideographic description characters, 16.0/15.1 CJK strokes (So)
    f"IDS: \u2FFC木木 \u2FFD日月 \u2FFE口 \u2FFF水 strokes \u31E4\u31E5\u31EF{chr(0x2EBF0)}",
    # 15.0 Cyrillic Extended-D modifier letters (Lm), Latin Extended-G (Ll)
    f"Cyrillic modifiers: а{cps(0x1E030, 0x1E034)}б {cps(0x1E040, 0x1E043)}\U0001E08F, "
    f"Latin-G {cps(0x1DF25, 0x1DF2A)}",
    # 15.0 Khojki, Kannada, Lao, Devanagari Extended-A (Po)
    f"Khojki {chr(0x11200)}{chr(0x1123F)}{chr(0x11240)}\U00011241, Kannada ಕ\u0CF3, Lao ກ\u0ECE",
    f"Devanagari head marks {cps(0x11B00, 0x11B04)} नमस्ते{cps(0x11B05, 0x11B09)}",
    # 15.0 Egyptian hieroglyph format controls and 16.0 Extended-A hieroglyphs
    f"Hieroglyphs {chr(0x13000)}\U00013439{chr(0x13001)} and {cps(0x13460, 0x13466)}{cps(0x13447, 0x13449)}",
    f"Egyptian Ext-A: {cps(0x14000, 0x14004)}, {cps(0x143F0, 0x143FA)}; 3 signs",
    # 15.0 emoji and symbols
    "Unicode 15 emoji: \U0001FAE8 shaking face, \U0001FA77\U0001FA75\U0001FA76 hearts, "
    "\U0001FACE\U0001FACF\U0001FABD\U0001FABF animals",
    "Music \U0001FA87\U0001FA88, food \U0001FADA\U0001FADB, hands \U0001FAF7\U0001FAF8, "
    "wifi \U0001F6DC!!!",
    "shaking\U0001FAE8face pink\U0001FA77heart \U0001FA75\U0001FA75\U0001FA75 ok",
    f"Alchemy {cps(0x1F774, 0x1F776)} and {chr(0x1F7D9)} shapes, small kana {chr(0x1B132)}{chr(0x1B155)}",
    # 15.0 Arabic Extended-C marks (class 220) in Arabic words
    "Quran marks: بِسْمِ \U00010EFD\U00010EFE\U00010EFF اللّه",
    # 16.0 Garay: letters in both cases, digits, marks, hyphen, plus/minus signs
    f"Garay (Wolof): {cps(0x10D50, 0x10D54)} {cps(0x10D70, 0x10D75)}\U00010D69 \U00010D4A\U00010D4E",
    f"Garay digits {cps(0x10D40, 0x10D49)}, sums \U00010D42\U00010D8E\U00010D43\U00010D8F1",
    f"word{cps(0x10D71, 0x10D73)}\U00010D6E{cps(0x10D50, 0x10D51)} and {cps(0x10D6F, 0x10D6F)}{cps(0x10D76, 0x10D77)}",
    # 16.0 Todhri, Sunuwar, Kirat Rai, Ol Onal, Tulu-Tigalari, Gurung Khema
    f"Todhri (Albanian): {cps(0x105C0, 0x105C6)} {cps(0x105D0, 0x105D6)}, {cps(0x105E0, 0x105E3)}.",
    f"Sunuwar {cps(0x11BC0, 0x11BC5)}\U00011BE1 {cps(0x11BD0, 0x11BD3)} — {cps(0x11BF0, 0x11BF9)}",
    f"Kirat Rai: {cps(0x16D43, 0x16D48)}\U00016D41 {cps(0x16D50, 0x16D54)}\U00016D6E "
    f"numbers {cps(0x16D70, 0x16D79)}\U00016D6F",
    f"Ol Onal {cps(0x1E5D0, 0x1E5D5)}\U0001E5EE {cps(0x1E5E0, 0x1E5E3)}\U0001E5EF\U0001E5FF "
    f"{cps(0x1E5F1, 0x1E5F6)}",
    f"Tulu-Tigalari: {cps(0x11380, 0x11384)}\U000113B8 {cps(0x11392, 0x11396)}\U000113CE\U00011397 "
    f"{chr(0x113D4)}{chr(0x113D5)} {chr(0x113D7)}",
    f"Gurung Khema {cps(0x16100, 0x16105)}\U0001611E {cps(0x16110, 0x16113)}\U0001612A "
    f"{cps(0x16130, 0x16139)}",
    # 16.0 digits of several scripts inside ASCII digit runs (\p{N}{1,3} groups them)
    f"12{chr(0x116D0)}{chr(0x116D1)}3456{cps(0x11BF1, 0x11BF2)}7{cps(0x16D71, 0x16D73)}89{chr(0x1E5F2)}0",
    f"Myanmar Ext-C digits {cps(0x116D0, 0x116E3)} and outlined {cps(0x1CCF0, 0x1CCF9)}",
    f"Score: {cps(0x16133, 0x16135)}-{cps(0x1E5F3, 0x1E5F4)} after {chr(0x10D45)}{chr(0x10D46)} minutes",
    # 16.0 symbols: legacy computing supplement, arrows, control pictures
    f"Legacy computing: {cps(0x1CC00, 0x1CC0A)} {cps(0x1CE00, 0x1CE08)} {cps(0x1FBCB, 0x1FBD2)}",
    f"Arrows {cps(0x1F8B2, 0x1F8B8)} and {chr(0x1F8C0)}{chr(0x1F8C1)}; pictures \u2427\u2428\u2429",
    f"a{chr(0x1CC21)}b{chr(0x1CC22)}c {chr(0x1F8B5)}x {chr(0x2427)}\n{chr(0x1FBE0)}",
    # 16.0 emoji
    "Unicode 16 emoji: \U0001FAE9 tired face, \U0001FA89 harp, \U0001FA8F shovel, \U0001FABE tree, "
    "\U0001FAC6 fingerprint, \U0001FADC root, \U0001FADF splatter",
    "I'm \U0001FAE9\U0001FAE9 today... but the \U0001FA89 was great!!! \U0001FADF\U0001FADF",
    "\U0001FA8F\U0001FA8Fdig\U0001FA8F 2x\U0001FABE",
    # 16.0 Latin, Cyrillic, Balinese, Arabic, Khitan additions
    "Latin \uA7CB\uA7CC\uA7CD\uA7DA\uA7DB\uA7DC inside words: a\uA7CDb X\uA7CBY, Cyrillic \u1C89\u1C8A",
    f"Balinese ᬅᬓ\u1B4E ᬳ\u1B4F\u1B7F, Arabic pepet ب\u0897 {chr(0x10EC2)}{chr(0x10EC3)}{chr(0x10EC4)}\U00010EFC",
    f"Khitan {chr(0x18CFF)}{chr(0x18B00)} and Kawi \U00011F5A",
    # mixtures with code, URLs, numbers and whitespace
    f"def {cps(0x10D70, 0x10D72)}_{cps(0x16D43, 0x16D44)}(x): return x * {chr(0x1D2C3)} + {chr(0x11F52)}",
    f"https://example.org/{cps(0x105C0, 0x105C3)}/{cps(0x31350, 0x31352)}?q={cps(0x11BF3, 0x11BF5)}",
    f"  {cps(0x1E5D0, 0x1E5D2)}   {cps(0x16100, 0x16101)}\t{cps(0x11380, 0x11381)}\n\n{chr(0x1FAE9)}  ",
    f"\"{cps(0x10D50, 0x10D52)}\", '{cps(0x11F10, 0x11F12)}', «{cps(0x1E4D0, 0x1E4D1)}» — {chr(0x1FA77)}",
    f"{cps(0x1D2C0, 0x1D2C2)}{cps(0x10D40, 0x10D41)}{cps(0x11F50, 0x11F51)}{cps(0x1E4F0, 0x1E4F1)}",
    f"'s{chr(0x10D70)} 'll{chr(0x11F05)} I'M{chr(0x105C0)} don't{cps(0x16D43, 0x16D44)}",
    f"#{cps(0x1CC00, 0x1CC02)}#{chr(0x11F43)}#{chr(0x113D4)}#{chr(0x16D6E)}#{chr(0x1E5FF)}#{chr(0x1B4E)}#",
    f"!{cps(0x10D50, 0x10D51)} ?{cps(0x16D43, 0x16D44)} .{cps(0x1E5D0, 0x1E5D1)} -{cps(0x31350, 0x31351)}",
    f"{chr(0x2FFC)}{chr(0x1F8B2)}{chr(0x10D8E)}{chr(0x2427)}abc{chr(0x1CC10)}{chr(0x1FBCB)}123",
    f"Mixed: 😀{cps(0x10D70, 0x10D71)}🎉{cps(0x1E4D0, 0x1E4D1)}👍🏽{chr(0x1FAE8)}{chr(0x1FAE9)} 你好{chr(0x2EBF5)}",
    # canonical compositions new in 16.0, decomposed and precomposed (Qwen normalizes with NFC)
    "Tulu-Tigalari \U00011382\U000113C9 \U00011383 \U0001138B\U000113C2 \U0001138E \U000113C2\U000113C2",
    "Gurung Khema \U00016100\U0001611E\U0001611E \U00016100\U00016121 \U00016101\U0001611E\U00016129",
    "Kirat Rai \U00016D43\U00016D67\U00016D67 \U00016D43\U00016D68 \U00016D63\U00016D67\U00016D67 \U00016D6A",
    "Todhri \U000105D2\u0307 \U000105C9 \U000105DA\u0307 \U000105E4 é",
]

# Normalization beyond Hugging Face's NFC, which has Unicode 9.0 data: a composition of Unicode 13.0
# and marks of Unicode 10 to 15 whose combining class a newer normalizer would reorder by.
NFC_NEWER_THAN_9 = [
    "Dives Akuru \U00011935\U00011930 and \U00011938 (Unicode 13.0 composition)",
    "e\u1DFA\u0301 and e\u0301\u1DFA (U+1DFA is Unicode 14.0, class 218)",
    "Telugu క\u0C4D\u0C3C and Arabic ب\U00010EFD\u0651 reorder only with newer data",
    "NKo \u07CA\u07FD\u07EB, Malayalam ക\u0D3B\u0D4D, Newa \U00011400\U0001145E\U00011446",
]


# New letters and digits where Llama-3's and Qwen2's patterns give different ids by category: a letter
# or digit run ends before a contraction (else the apostrophe joins the run and 's is lost), a digit
# does not join the space before it.
L = {"Kawi": cps(0x11F04, 0x11F06), "Nag Mundari": cps(0x1E4D0, 0x1E4D2), "Garay": "\U00010D50\U00010D71",
     "Todhri": cps(0x105C0, 0x105C2), "Sunuwar": cps(0x11BC0, 0x11BC2), "Kirat Rai": cps(0x16D43, 0x16D45),
     "Ol Onal": cps(0x1E5D0, 0x1E5D2), "Tulu-Tigalari": cps(0x11380, 0x11382),
     "Gurung Khema": cps(0x16100, 0x16102), "Egyptian Ext-A": cps(0x13460, 0x13462),
     "CJK Ext H": cps(0x31350, 0x31352), "CJK Ext I": cps(0x2EBF0, 0x2EBF2),
     "Cyrillic Ext-D": cps(0x1E030, 0x1E032), "Latin": "\uA7CB\uA7CD\uA7DA", "Cyrillic": "\u1C89\u1C8A",
     "Khitan": "\U00018CFF", "Arabic Ext-C": cps(0x10EC2, 0x10EC4), "Khojki": "\U0001123F\U00011240",
     "Latin Ext-G": cps(0x1DF25, 0x1DF27), "small kana": "\U0001B132\U0001B155"}
N = {"Kawi": cps(0x11F50, 0x11F53), "Nag Mundari": cps(0x1E4F0, 0x1E4F3), "Garay": cps(0x10D40, 0x10D43),
     "Sunuwar": cps(0x11BF0, 0x11BF3), "Kirat Rai": cps(0x16D70, 0x16D73), "Ol Onal": cps(0x1E5F1, 0x1E5F4),
     "Gurung Khema": cps(0x16130, 0x16133), "Myanmar Ext-C": cps(0x116D0, 0x116D3),
     "outlined": cps(0x1CCF0, 0x1CCF3), "Kaktovik": cps(0x1D2C0, 0x1D2C3)}
CONTRACTIONS_AFTER = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d", "'S", "'LL", "'Re"]
SPLIT_BY_CATEGORY = [
    " ".join(f"{w}{CONTRACTIONS_AFTER[i % len(CONTRACTIONS_AFTER)]}" for i, w in enumerate(list(L.values())[:10])),
    " ".join(f"{w}{CONTRACTIONS_AFTER[i % len(CONTRACTIONS_AFTER)]}" for i, w in enumerate(list(L.values())[10:])),
    " ".join(f"{d}{CONTRACTIONS_AFTER[i]}" for i, d in enumerate(N.values())),
    "Digits: " + ", ".join(f"{name} {d}" for name, d in N.items()),
    "Mixed: " + "; ".join(f"{d} {w}'s" for d, w in zip(N.values(), L.values())),
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
    lines = seeds + mixtures(rng, pools, 1100 - len(seeds)) + UNICODE_15_16 + NFC_NEWER_THAN_9 + SPLIT_BY_CATEGORY
    out = ROOT / "tests/data/tokenizer-corpus.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        for i, text in enumerate(lines):
            f.write(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {len(lines)} lines to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
