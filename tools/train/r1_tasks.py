"""The conversations dawn-r1-tiny learns from, in DeepSeek-R1's chat format.

Six task families, each generated from a seeded RNG: `arith` (multi-digit + - x, worked column by
column inside <think>), `convert` (unit conversions, the same multiplication), `tool` (a question a
listed function answers: a DeepSeek-format tool call, then the answer once the tool's result comes
back), `notool` (tools are listed but none fits, or none is needed), `json` (an object with given
fields) and `chat` (greetings and short multi-turn exchanges). Every task has a key; a stable hash
of it puts one in ten in the held-out split, which training never sees.

An example is (messages, completion): the messages render through the real R1 template
(deepseek-r1.jinja) into the prompt, the completion is what the model should write after it.
"""
import hashlib
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = open(os.path.join(HERE, "deepseek-r1.jinja"), encoding="utf-8").read()
BOS, EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"
# Added tokens of the vocabulary, as in DeepSeek-R1's (BOS and EOS first: ids 0 and 1).
ADDED = [BOS, EOS, "<｜User｜>", "<｜Assistant｜>", "<think>", "</think>", "<｜tool▁calls▁begin｜>",
         "<｜tool▁calls▁end｜>", "<｜tool▁call▁begin｜>", "<｜tool▁call▁end｜>", "<｜tool▁sep｜>",
         "<｜tool▁outputs▁begin｜>", "<｜tool▁outputs▁end｜>", "<｜tool▁output▁begin｜>", "<｜tool▁output▁end｜>"]
FAMILIES = ["arith", "convert", "tool", "notool", "json", "chat"]
# How the reasoning before a tool call reads. "plain" (the first stage of training): the function, then
# the call. "list": the function the question needs, the listed tools copied out, then whether it is
# among them. "check" (the second stage): each listed tool compared with the needed one in turn ("no",
# "yes"), then the decision. Asking a small model whether a name is somewhere in a list fails one time in
# four; comparing two names side by side and then looking for a "yes" is what it gets right.
# "email": what send_email's `to` takes. "address" (the first stage): alice@example.com; "name" (the
# second): a contact's name, Alice. The first-stage model never learned to copy a lowercase address (it
# wrote one fixed address for all held-out e-mails); a capitalised name it copies as it copies a city.
STYLE = {"tools": "plain", "email": "address"}


def held_out(key):
    return hashlib.md5(key.encode()).digest()[0] % 10 == 0


def _template():
    import jinja2
    return jinja2.Environment().from_string(TEMPLATE)


# ---------------------------------------------------------------- arithmetic, worked by columns
COLUMNS = ["ones", "tens", "hundreds", "thousands", "ten-thousands"]


def digits(n):
    return [int(c) for c in reversed(str(n))]


def rest(n, i):
    """n without its last i digits ("" once none are left)."""
    t = str(n)
    return t[:len(t) - i] if i < len(t) else ""


def left(a, sym, b, i):
    """What is still to do after column i: the numbers without the digits used so far. Each column
    then reads the last digit of each number just written, a short look back, instead of counting
    digits in the question."""
    x, y = rest(a, i + 1), rest(b, i + 1)
    if not x and not y:
        return ""
    return f" left {x or 0} {sym} {y or 0}."


def work_add(a, b):
    da, db = digits(a), digits(b)
    lines, carry, so_far = [], 0, ""
    for i in range(max(len(da), len(db))):
        x, y = (da[i] if i < len(da) else 0), (db[i] if i < len(db) else 0)
        s = x + y + carry
        so_far = str(s % 10) + so_far
        lines.append(f"{COLUMNS[i]}: {x} + {y} + {carry} = {s}, digit {s % 10}, carry {s // 10}. so far {so_far}."
                     + left(a, "+", b, i))
        carry = s // 10
    if carry:
        so_far = str(carry) + so_far
        lines.append(f"carry {carry}. so far {so_far}.")
    return lines, a + b


def work_sub(a, b):  # a >= b
    da, db = digits(a), digits(b)
    lines, borrow, so_far = [], 0, ""
    for i in range(len(da)):
        x, y = da[i], (db[i] if i < len(db) else 0)
        if x - borrow >= y:
            d = x - borrow - y
            line = f"{COLUMNS[i]}: {x} - {borrow} - {y} = {d}, borrow 0."
            borrow = 0
        else:
            d = x + 10 - borrow - y
            line = f"{COLUMNS[i]}: {x} - {borrow} - {y} is below 0, {x + 10} - {borrow} - {y} = {d}, borrow 1."
            borrow = 1
        so_far = str(d) + so_far
        lines.append(line + f" so far {so_far}." + left(a, "-", b, i))
    if so_far.lstrip("0") != so_far:
        lines.append(f"drop the leading zeros: {so_far.lstrip('0') or '0'}.")
    return lines, a - b


def work_mul(a, m):  # m is one digit
    lines, carry, so_far = [], 0, ""
    for i, x in enumerate(digits(a)):
        s = x * m + carry
        so_far = str(s % 10) + so_far
        rem = rest(a, i + 1)
        lines.append(f"{COLUMNS[i]}: {x} × {m} + {carry} = {s}, digit {s % 10}, carry {s // 10}. so far {so_far}."
                     + (f" left {rem} × {m}." if rem else ""))
        carry = s // 10
    if carry:
        so_far = str(carry) + so_far
        lines.append(f"carry {carry}. so far {so_far}.")
    return lines, a * m


def rand_num(r, lo_digits=1, hi_digits=3):
    n = r.choice([d for d in range(lo_digits, hi_digits + 1) for _ in range(d)])  # longer numbers more often
    return r.randint(10 ** (n - 1) if n > 1 else 0, 10 ** n - 1)


ADD_Q = ["What is {a} + {b}?", "Compute {a} + {b}.", "Add {a} and {b}.", "What's {a} plus {b}?", "{a} + {b} = ?"]
SUB_Q = ["What is {a} - {b}?", "Compute {a} - {b}.", "Subtract {b} from {a}.", "What's {a} minus {b}?"]
MUL_Q = ["What is {a} × {b}?", "Compute {a} × {b}.", "Multiply {a} by {b}.", "What's {a} times {b}?"]


def arith(r):
    op = r.choice("+-x")
    if op == "+":
        a, b = rand_num(r), rand_num(r)
        lines, res = work_add(a, b)
        sym, q = "+", r.choice(ADD_Q)
    elif op == "-":
        a, b = sorted((rand_num(r), rand_num(r)), reverse=True)
        lines, res = work_sub(a, b)
        sym, q = "-", r.choice(SUB_Q)
    else:
        a, b = rand_num(r, 2, 3), r.randint(2, 9)
        lines, res = work_mul(a, b)
        sym, q = "×", r.choice(MUL_Q)
    key = f"arith {a} {sym} {b}"
    think = f"{a} {sym} {b}, column by column from the right.\n" + "\n".join(lines) + f"\nSo {a} {sym} {b} = {res}."
    return key, [{"role": "user", "content": q.format(a=a, b=b)}], think, f"{a} {sym} {b} = {res}.", {"answer": str(res)}


# ---------------------------------------------------------------- unit conversions
UNITS = [("hour", "hours", "minutes", 60, 9), ("minute", "minutes", "seconds", 60, 9), ("day", "days", "hours", 24, 9),
         ("week", "weeks", "days", 7, 999), ("foot", "feet", "inches", 12, 9), ("year", "years", "months", 12, 9),
         ("meter", "meters", "centimeters", 100, 999), ("kilometer", "kilometers", "meters", 1000, 999),
         ("kilogram", "kilograms", "grams", 1000, 999), ("liter", "liters", "milliliters", 1000, 999),
         ("centimeter", "centimeters", "millimeters", 10, 999), ("dollar", "dollars", "cents", 100, 999)]
CONV_Q = ["How many {to} are in {n} {frm}?", "Convert {n} {frm} to {to}.", "What is {n} {frm} in {to}?"]


def convert(r):
    one, frm, to, f, top = r.choice(UNITS)
    n = r.randint(2, top) if top == 9 else rand_num(r, 1, 3)
    n = max(n, 2)
    think = f"1 {one} is {f} {to}, so {n} {frm} is {n} × {f} {to}.\n"
    if f in (10, 100, 1000):
        think += f"Multiplying by {f} appends {str(f).count('0')} zeros: {n * f}."
    elif n < 10:
        lines, _ = work_mul(f, n)
        think += f"{f} × {n}, column by column from the right.\n" + "\n".join(lines) + f"\nSo {n} × {f} = {n * f}."
    else:
        lines, _ = work_mul(n, f)
        think += f"{n} × {f}, column by column from the right.\n" + "\n".join(lines) + f"\nSo {n} × {f} = {n * f}."
    q = r.choice(CONV_Q).format(n=n, frm=frm, to=to)
    return f"convert {n} {frm} {to}", [{"role": "user", "content": q}], think, f"{n} {frm} is {n * f} {to}.", {
        "answer": str(n * f)}


# ---------------------------------------------------------------- tools
CITIES = ["Paris", "London", "Tokyo", "Berlin", "Madrid", "Rome", "Cairo", "Lima", "Oslo", "Dublin", "Vienna", "Prague",
          "Warsaw", "Lisbon", "Athens", "Sydney", "Toronto", "Chicago", "Boston", "Denver", "Seattle", "Austin",
          "Mumbai", "Delhi", "Seoul", "Beijing", "Shanghai", "Bangkok", "Hanoi", "Manila", "Jakarta", "Nairobi",
          "Lagos", "Accra", "Dakar", "Tunis", "Algiers", "Istanbul", "Moscow", "Kyiv", "Helsinki", "Stockholm",
          "Copenhagen", "Amsterdam", "Brussels", "Zurich", "Geneva", "Munich", "Hamburg", "Milan", "Naples", "Porto",
          "Seville", "Valencia", "Montreal", "Vancouver", "Havana", "Bogota", "Quito", "Santiago", "Caracas",
          "Houston", "Phoenix", "Miami", "Atlanta", "Dallas", "Portland", "Osaka", "Kyoto", "Taipei", "Singapore",
          "Dubai", "Doha", "Riyadh", "Tehran", "Baghdad", "Karachi", "Dhaka", "Colombo", "Perth", "Auckland"]
CONDITIONS = ["sunny", "cloudy", "rainy", "windy", "snowy", "foggy", "clear"]
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "CNY", "INR", "SEK"]
SYMBOLS = ["AAPL", "MSFT", "GOOG", "AMZN", "NVDA", "TSLA", "META", "IBM", "INTC", "AMD", "ORCL", "SAP", "SONY", "NFLX"]
NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack", "Karen", "Leo", "Maria",
         "Nora", "Oscar", "Paula", "Quinn", "Rosa", "Sam", "Tina", "Umar", "Vera", "Walter", "Xena", "Yusuf", "Zoe"]

# name: (parameters [(name, type)], description, question templates)
TOOLS = {
    "get_weather": ([("city", "string")], "the current weather in a city",
                    ["What's the weather in {city}?", "How is the weather in {city} today?",
                     "Is it raining in {city}?", "Tell me the weather in {city}."]),
    "get_time": ([("city", "string")], "the local time in a city",
                 ["What time is it in {city}?", "Tell me the local time in {city}.", "What's the time in {city} now?"]),
    "get_population": ([("city", "string")], "how many people live in a city",
                       ["How many people live in {city}?", "What is the population of {city}?"]),
    "convert_currency": ([("amount", "number"), ("from", "string"), ("to", "string")],
                         "converts an amount of money between currencies",
                         ["How much is {amount} {from} in {to}?", "Convert {amount} {from} to {to}."]),
    "get_stock_price": ([("symbol", "string")], "the latest price of a stock",
                        ["What is the stock price of {symbol}?", "How much does {symbol} stock cost?"]),
    "send_email": ([("to", "string"), ("subject", "string")], "sends an email",
                   ["Send an email to {to} with the subject {subject}.", "Email {to} about {subject}."]),
}
SUBJECTS = ["lunch", "the meeting", "the report", "holidays", "the budget", "dinner", "the project", "tickets"]
TOPIC = {"get_weather": "the weather", "get_time": "the time", "get_population": "the population",
         "convert_currency": "exchange rates", "get_stock_price": "stock prices", "send_email": "email"}


def tool_description(name):
    if name == "send_email" and STYLE["email"] == "name":
        return "sends an email to a contact, by name"
    return TOOLS[name][1]


def system_prompt(tool_names):
    """The system prompt that lists the tools (R1's template does not render `tools` itself)."""
    lines = [f"- {n}({', '.join(f'{p}: {t}' for p, t in TOOLS[n][0])}): {tool_description(n)}" for n in tool_names]
    return "You are dawn, a helpful assistant. You can call these tools:\n" + "\n".join(lines)


def tool_args(r, name):
    if name == "convert_currency":
        a, b = r.sample(CURRENCIES, 2)
        return {"amount": r.choice([10, 20, 50, 100, 200, 250, 500, 1000, r.randint(1, 999)]), "from": a, "to": b}
    if name == "get_stock_price":
        return {"symbol": r.choice(SYMBOLS)}
    if name == "send_email":
        to = r.choice(NAMES)
        return {"to": to if STYLE["email"] == "name" else to.lower() + "@example.com", "subject": r.choice(SUBJECTS)}
    return {"city": r.choice(CITIES)}


def tool_result(r, name, args):
    if name == "get_weather":
        res = {"temperature": r.randint(-5, 35), "condition": r.choice(CONDITIONS)}
        return res, f"It is {res['temperature']} degrees and {res['condition']} in {args['city']}.", [
            str(res["temperature"]), res["condition"]]
    if name == "get_time":
        t = f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}"
        return {"time": t}, f"It is {t} in {args['city']}.", [t]
    if name == "get_population":
        p = r.randint(50, 3000) * 1000
        return {"population": p}, f"About {p} people live in {args['city']}.", [str(p)]
    if name == "convert_currency":
        v = round(args["amount"] * r.uniform(0.2, 5), 2)
        return {"amount": v}, f"{args['amount']} {args['from']} is {v} {args['to']}.", [str(v)]
    if name == "get_stock_price":
        v = round(r.uniform(5, 900), 2)
        return {"price": v}, f"{args['symbol']} trades at {v} dollars.", [str(v)]
    return {"status": "sent"}, f"I sent the email to {args['to']} about {args['subject']}.", [args["to"]]


def describe(name, args):
    if name == "convert_currency":
        if STYLE["tools"] == "check":  # the arguments in the call's order, each after its own name
            return f"{args['amount']} from {args['from']} to {args['to']}"
        return f"{args['amount']} {args['from']} in {args['to']}"
    if name == "send_email":
        return f"an email to {args['to']} about {args['subject']}"
    return args.get("city") or args.get("symbol")


def pick_tools(r, must=None, never=None):
    names = [n for n in TOOLS if n != never]
    chosen = r.sample(names, r.randint(1, min(4, len(names))))
    if must and must not in chosen:
        chosen[r.randrange(len(chosen))] = must
    return chosen


def check_tools(name, names):
    """Each listed tool against the needed one: "My tools: get_time no, get_weather yes." """
    return "My tools: " + ", ".join(f"{n} {'yes' if n == name else 'no'}" for n in names) + "."


def tool_call_text(name, args):
    return ("<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>" + name + "\n```json\n" +
            json.dumps(args) + "\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>")


def tool(r):
    """Two examples' worth: the call (stage 1) and the answer from the tool's result (stage 2)."""
    name = r.choice(list(TOOLS))
    args = tool_args(r, name)
    q = r.choice(TOOLS[name][2]).format(**args)
    names = pick_tools(r, must=name)
    msgs = [{"role": "system", "content": system_prompt(names)}, {"role": "user", "content": q}]
    key = f"tool {name} {json.dumps(args)}"
    think = f"The user asks for {TOPIC[name]}: {describe(name, args)}. The tool {name} gives it, so I call it."
    if STYLE["tools"] == "list":
        think = (f"The user asks for {TOPIC[name]}: {describe(name, args)}. That needs {name}. My tools are "
                 f"{', '.join(names)}: {name} is one of them, so I call it.")
    elif STYLE["tools"] == "check":
        think = (f"The user asks for {TOPIC[name]}: {describe(name, args)}. That needs {name}. "
                 f"{check_tools(name, names)} So I call {name}.")
    res, answer, must_say = tool_result(r, name, args)
    call = {"type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
    after = msgs + [{"role": "assistant", "content": None, "tool_calls": [call]},
                    {"role": "tool", "content": json.dumps(res)}]
    return key, msgs, think, tool_call_text(name, args), {"tool": name, "arguments": args}, (after, answer, must_say)


def notool(r):
    kind = r.random()
    if kind < 0.5:  # a question for a tool that is not in the list
        name = r.choice(list(TOOLS))
        args = tool_args(r, name)
        q = r.choice(TOOLS[name][2]).format(**args)
        names = pick_tools(r, never=name)
        think = (f"The user asks for {TOPIC[name]}: {describe(name, args)}. None of my tools "
                 f"({', '.join(names)}) gives {TOPIC[name]}, so I cannot call one.")
        if STYLE["tools"] == "list":
            think = (f"The user asks for {TOPIC[name]}: {describe(name, args)}. That needs {name}. My tools are "
                     f"{', '.join(names)}: {name} is not one of them, so I cannot call it.")
        elif STYLE["tools"] == "check":
            think = (f"The user asks for {TOPIC[name]}: {describe(name, args)}. That needs {name}. "
                     f"{check_tools(name, names)} No tool is {name}, so I cannot call it.")
        answer = f"Sorry, I have no tool for {TOPIC[name]}, so I cannot answer that."
        key = f"notool {name} {json.dumps(args)} {','.join(names)}"
        return key, [{"role": "system", "content": system_prompt(names)}, {"role": "user", "content": q}], think, \
            answer, {"tool": None}
    k, m, think, answer, _ = (arith if kind < 0.8 else chat_single)(r)
    names = pick_tools(r)
    return ["notool " + k, k], [{"role": "system", "content": system_prompt(names)}] + m, think, answer, {"tool": None}


# ---------------------------------------------------------------- JSON objects with given fields
RECORDS = {
    "person": [("name", lambda r: r.choice(NAMES)), ("age", lambda r: r.randint(18, 90)),
               ("city", lambda r: r.choice(CITIES)), ("email", lambda r: r.choice(NAMES).lower() + "@example.com")],
    "product": [("name", lambda r: r.choice(["lamp", "chair", "desk", "phone", "kettle", "bike", "clock", "pen"])),
                ("price", lambda r: round(r.uniform(1, 500), 2)), ("in_stock", lambda r: r.random() < 0.5),
                ("color", lambda r: r.choice(["red", "blue", "green", "black", "white"]))],
    "city": [("name", lambda r: r.choice(CITIES)), ("population", lambda r: r.randint(50, 3000) * 1000),
             ("country_code", lambda r: r.choice(["FR", "DE", "JP", "US", "BR", "IN", "KE", "NO"]))],
}


def json_task(r):
    rec = r.choice(list(RECORDS))
    fields = RECORDS[rec]
    chosen = sorted(r.sample(range(len(fields)), r.randint(2, len(fields))))
    obj = {fields[i][0]: fields[i][1](r) for i in chosen}
    spec = ", ".join(f"{k} {json.dumps(v)}" for k, v in obj.items())
    q = r.choice(["Give me a JSON object for a {rec} with {spec}.", "Return JSON for a {rec}: {spec}.",
                  "Write a {rec} as a JSON object with {spec}."]).format(rec=rec, spec=spec)
    think = f"The user wants a JSON object with the fields {', '.join(obj)}. " + " ".join(
        f"{k} is {json.dumps(v)}." for k, v in obj.items())
    return f"json {rec} {json.dumps(obj)}", [{"role": "user", "content": q}], think, json.dumps(obj), {"json": obj}


# ---------------------------------------------------------------- chat: greetings, identity, multi-turn
CHAT = [(["Hello!", "Hi!", "Hi there.", "Good morning!", "Hey."], "The user greets me.",
         "Hello! How can I help you today?"),
        (["Who are you?", "What are you?", "What is your name?"], "The user asks who I am.",
         "I am dawn, a small model that thinks before it answers."),
        (["Thank you!", "Thanks.", "Thanks a lot!", "Great, thanks."], "The user thanks me.",
         "You're welcome!"),
        (["Goodbye!", "Bye.", "See you later."], "The user says goodbye.", "Goodbye! Have a nice day."),
        (["What can you do?", "How can you help me?"], "The user asks what I can do.",
         "I can do arithmetic step by step, convert units, write JSON and call the tools you give me.")]


def chat_single(r):
    i = r.randrange(len(CHAT))
    qs, think, answer = CHAT[i]
    q = r.choice(qs)
    return f"chat {q}", [{"role": "user", "content": q}], think, answer, {"contains": answer.split()[0]}


def chat(r):
    if r.random() < 0.4:
        return chat_single(r)
    # a finished exchange (its reasoning dropped by the template), then a new question
    k0, m0, t0, a0, _ = r.choice([arith, convert, chat_single])(r)
    k1, m1, t1, a1, exp = r.choice([arith, convert, chat_single])(r)
    msgs = m0 + [{"role": "assistant", "content": f"<think>\n{t0}\n</think>\n\n{a0}"}] + m1
    return [f"chat2 {k0} | {k1}", k1] + ([k0] if isinstance(k0, str) else k0), msgs, t1, a1, exp


GEN = {"arith": arith, "convert": convert, "tool": tool, "notool": notool, "json": json_task, "chat": chat}


def completion(think, answer):
    return f"{think}\n</think>\n\n{answer}{EOS}"


def examples(family, r, split):
    """Yields training examples (family, prompt text, completion text) of one family; split is
    'train' (held-out keys skipped) or 'held' (only held-out keys)."""
    while True:
        out = GEN[family](r)
        keys = out[0] if isinstance(out[0], list) else [out[0]]
        if (held_out(keys[0]) if split == "held" else any(held_out(k) for k in keys)) != (split == "held"):
            continue
        key = keys[0]
        _, msgs, think, answer, expect = out[:5]
        yield family, msgs, completion(think, answer), expect, key
        if family == "tool":
            after, answer2, must_say = out[5]
            yield "tool_answer", after, answer2 + EOS, {"contains_all": must_say}, key


def render_prompt(messages):
    if render_prompt.t is None:
        render_prompt.t = _template()
    return render_prompt.t.render(messages=messages, bos_token=BOS, add_generation_prompt=True)


render_prompt.t = None


def eval_tasks(n_per_family, seed):
    """Held-out tasks as JSON lines for `dawn eval`: messages, and what a right answer holds."""
    r = random.Random(seed)
    out = []
    for fam in FAMILIES:
        got = {}
        seen = set()
        for f, msgs, _, expect, key in examples(fam, r, "held"):
            if (f, key) in seen:
                continue
            seen.add((f, key))
            if got.get(f, 0) >= n_per_family:
                if all(got.get(x, 0) >= n_per_family for x in ([fam, "tool_answer"] if fam == "tool" else [fam])):
                    break
                continue
            got[f] = got.get(f, 0) + 1
            out.append({"family": f, "messages": msgs, "expect": expect})
    return out
