#!/usr/bin/env python3
"""Writes tests/data/jinja-cases.json: small templates with the output Jinja2 gives for them,
configured as transformers configures it (see tests/chat/jinja2_reference.py). Run after editing CASES."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "chat"))
import jinja2_reference as ref  # noqa: E402
from jinja2.ext import loopcontrols  # noqa: E402
from jinja2.sandbox import ImmutableSandboxedEnvironment  # noqa: E402

MSGS = [{"role": "system", "content": "sys"}, {"role": "user", "content": " hi "},
        {"role": "assistant", "content": "<think>\nr\n</think>\n\nans", "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1, "b": [True, None, 2.5]}}}]}]
CASES = [
    ("trim_blocks", "{% if true %}\nA\n{% endif %}\nB", {}),
    ("lstrip_blocks", "  {% if true %}\n  X\n  {% endif %}\nY", {}),
    ("lstrip_plus_disables", "  {%+ if true %}Z{% endif %}", {}),
    ("dash_modifiers", "a  \n  {{- 'b' -}}  \n  c {%- if 1 %} d {% endif -%}   e", {}),
    ("comment", "x {# note #}\n  {#- trimmed -#}  y", {}),
    ("trailing_newline_dropped", "line\n", {}),
    ("crlf_source", "a\r\nb\r\n{% if 1 %}\r\nc{% endif %}", {}),
    ("for_loop_vars", "{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }}|{% endfor %}", {"messages": MSGS}),
    ("for_else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}", {}),
    ("for_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.role }} {% endfor %}", {"messages": MSGS}),
    ("for_unpack_items", "{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}", {}),
    ("for_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"z": 1, "y": 2}}),
    ("loop_controls", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 4 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 1 %}{% for i in [5] %}{% set x = i %}{{ x }}{% endfor %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(n=0, s='') %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}{{ ns.n }} {{ ns.s }}", {}),
    ("set_block", "{% set x %}in{{ 1 + 1 }}side{% endset %}[{{ x }}]", {}),
    ("slicing", "{{ [1,2,3,4,5][::-1] }}{{ [1,2,3,4,5][1:3] }}{{ 'hello'[1:] }}{{ 'hello'[::-2] }}{{ [1,2,3][-1] }}{{ 'abc'[-2:] }}", {}),
    ("messages_reverse_index", "{% for m in messages[::-1] %}{{ (messages|length - 1) - loop.index0 }}{{ m.role[0] }}{% endfor %}", {"messages": MSGS}),
    ("string_methods", "{{ ' a b '.strip() }}|{{ 'xxhixx'.strip('x') }}|{{ '\\n\\nq'.lstrip('\\n') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'Ab'.lower() }}{{ 'Ab'.upper() }}|{{ 'hello world'.title() }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'aaa'.replace('a', 'b', 2) }}", {}),
    ("think_split", "{% set c = messages[2].content %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}", {"messages": MSGS}),
    ("tojson", "{{ messages[2].tool_calls[0].function.arguments | tojson }}|{{ {'k': 'ü\"\\n'} | tojson }}|{{ [1, 2] | tojson(indent=2) }}|{{ 1.0 | tojson }}|{{ 1e-7 | tojson }}|{{ 1e20 | tojson }}", {"messages": MSGS}),
    ("tojson_sort_keys", "{{ {'b': 1, 'a': {'d': 2, 'c': 3}} | tojson(sort_keys=true) }}", {}),
    ("print_values", "{{ none }} {{ true }} {{ 3 }} {{ 2.50 }} {{ 1/4 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ [1, 'a', none] }} {{ {'a': 'b'} }}", {}),
    ("undefined", "[{{ nothing }}]{{ nothing is defined }}{{ nothing is undefined }}{{ messages[0].missing is defined }}{{ (nothing or 'dflt') }}", {"messages": MSGS}),
    ("tests", "{{ none is none }}{{ 1 is number }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ false is false }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 1 is not none }}{{ true is true }}{{ 2.0 is float }}{{ 2 is integer }}", {}),
    ("operators", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 'a' ~ 1 ~ none }} {{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'x' not in {'x': 1} }} {{ 1 < 2 and 2 >= 2 }} {{ not 1 == 1 }} {{ -3 + 1 }} {{ 'ab' * 2 }} {{ [1] + [2] }}", {}),
    ("inline_if", "{{ 'yes' if messages else 'no' }} {{ 'a' if false }}|{{ 'x' if 0 else 'y' if 1 else 'z' }}", {"messages": MSGS}),
    ("filters", "{{ '  t  ' | trim }}|{{ none | trim }}|{{ [3,1,3] | unique | list }}|{{ 'abc' | upper }}|{{ [1,2,3] | first }}{{ [1,2,3] | last }}|{{ [1,2,3] | join('-') }}|{{ nothing | default('d') }}|{{ '' | default('e', true) }}|{{ [1,2] | reverse | list }}|{{ 'ab' | reverse }}|{{ '3' | int + 1 }}|{{ 2 | float }}|{{ -3 | abs }}|{{ [1,2,3] | sum }}|{{ 'a\\nb' | indent(2) }}|{{ 'x' | length }}{{ messages | count }}", {"messages": MSGS}),
    ("selectattr_map", "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }}|{{ messages | rejectattr('role', 'eq', 'user') | map(attribute='role') | join(',') }}|{{ messages | map(attribute='missing', default='-') | list }}|{{ ['a', 'B'] | map('upper') | list }}", {"messages": MSGS}),
    ("dict_methods", "{{ d.get('a') }}{{ d.get('zz', 'dflt') }}{{ d.keys() | list }}{{ d.values() | list }}{{ d['a'] }}{{ d.a }}", {"d": {"a": 1, "b": 2}}),
    ("attr_on_none", "{{ x.y is defined }}", {"x": None}),
    ("escapes", "{{ 'tab\\tq\\'\\\"\\\\ \\u00e9 \\x41' }}", {}),
    ("unicode_len_index", "{{ 'naïve😀' | length }} {{ 'naïve😀'[-1] }} {{ '你好'[0] }}", {}),
    ("raise_exception", "{% if messages[0].role == 'system' %}{{ raise_exception('no system please') }}{% endif %}", {"messages": MSGS}),
    ("type_error_concat", "{{ 'a' + 1 }}", {}),
    ("in_none_error", "{{ 'x' in messages[0].nothing_here_none }}", {"messages": [{"nothing_here_none": None}]}),
    ("elif_chain", "{% for v in [1, 2, 3, 4] %}{% if v == 1 %}one{% elif v == 2 %}two{% elif v == 3 %}three{% else %}many{% endif %} {% endfor %}", {}),
    ("nested_loops_outer_loop", "{% for a in [1, 2] %}{% set outer = loop.index %}{% for b in 'xy' %}{{ outer }}{{ b }}{{ loop.index }} {% endfor %}{% endfor %}", {}),
    ("whitespace_heavy", "{%- for m in messages %}\n    {%- if m.role == 'user' %}\n        {{- '<u>' + m.content + '</u>\\n' }}\n    {%- elif m.role == 'system' %}\n        {{- '<s>' + m.content }}\n    {%- endif %}\n{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<a>' }}\n{%- endif %}\n", {"messages": MSGS, "add_generation_prompt": True}),
    ("is_string_dict", "{% for c in messages[2].tool_calls %}{{ c.function.arguments is string }}{{ c.function.arguments is mapping }}{% endfor %}", {"messages": MSGS}),
    ("list_literal_tuple", "{% set t = (1, 'two') %}{{ t[1] }}{{ t | length }}", {}),
    ("macro_args_defaults_recursion", "{% macro m(a, b='d', c=a ~ 'x') %}{{ a }}{{ b }}{{ c }}|{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(b=3, a=4) }}{{ m() }}{% macro down(n) %}{% if n > 0 %}{{ n }}{{ down(n - 1) }}{% endif %}{% endmacro %}{{ down(3) }}{{ m(5) | length }}{{ m(6) is string }}", {}),
    ("macro_scoping", "{% set x = 1 %}{% macro show() %}[{{ x }}{{ i }}]{% endmacro %}{% set x = 2 %}{% for i in [7, 8] %}{{ show() }}{% macro inner() %}<{{ i }}>{% endmacro %}{{ inner() }}{% endfor %}{% macro local() %}{% set y = 1 %}{% set ns.a = 5 %}{% endmacro %}{% set ns = namespace(a=0) %}{{ local() }}{{ y }}{{ ns.a }}", {}),
    ("macro_whitespace", "{%- macro sig(fn) -%}\n  {{ fn.name }}(\n  {%- for k, v in fn.args | dictsort -%}\n    {{ k }}: {{ v }}{{ ', ' if not loop.last }}\n  {%- endfor -%}\n  )\n{%- endmacro -%}\n{{ sig({'name': 'f', 'args': {'b': 'int', 'a': 'str'}}) }}\n", {}),
    ("macro_too_many_args", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}", {}),
    ("macro_unknown_kwarg", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(c=2) }}", {}),
    ("macro_kwarg_repeats_positional", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, a=2) }}", {}),
    ("tool_call_arguments", "{% for c in calls %}{{ c.function.arguments | tojson }}|{% if c.function.arguments is mapping %}{% for k, v in c.function.arguments.items() %}{{ k }}={{ v | tojson }};{% endfor %}{% else %}{{ c.function.arguments }}{% endif %}|{{ 'tool_calls' in m }}{{ m == ms[-1] }}{{ {'a': [1]} == {'a': [1]} }}\n{% endfor %}", {"calls": [{"function": {"name": "f", "arguments": "{\"a\": \"}\\\"\"}"}}, {"function": {"name": "g", "arguments": {"x": [1, None], "y": "é"}}}], "m": {"role": "assistant", "tool_calls": []}, "ms": [{"role": "user"}, {"role": "assistant", "tool_calls": []}]}),
    ("concat_str_dict_error", "{{ 'a' + {'b': 1} }}", {}),
    ("concat_list_str_error", "{{ [1] + 'b' }}", {}),
    ("add_int_str_error", "{{ 1 + 'b' }}", {}),
    ("float_repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 123456789.0 }} {{ 1.5e-5 }} {{ 100.0 }}", {}),
]


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = ref.tojson
    env.globals["raise_exception"] = ref.raise_exception
    out = []
    for name, src, ctx in CASES:
        case = {"name": name, "template": src, "context": ctx}
        try:
            case["expected"] = env.from_string(src).render(**ctx)
        except Exception as e:  # noqa: BLE001 - the case expects an error
            case["error"] = f"{type(e).__name__}: {e}"
        out.append(case)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "jinja-cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} cases to {path}")


if __name__ == "__main__":
    main()
