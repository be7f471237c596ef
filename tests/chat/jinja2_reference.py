#!/usr/bin/env python3
"""Renders chat conversations with Jinja2 configured as Hugging Face transformers does.

Usage: jinja2_reference.py tokenizer_config.json conversations.json > reference.jsonl
One line per (conversation, add_generation_prompt): {"id": "NAME/gen0|gen1", "text": ...}
or {"id": ..., "error": ...} when the template raises, as transformers would.
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' override: no HTML escaping, json.dumps options exposed
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def token_text(v):
    return v.get("content") if isinstance(v, dict) else v


def specials_of(config):
    """bos_token / eos_token of a tokenizer_config.json, as transformers passes them."""
    return {key: token_text(config[key]) for key in ("bos_token", "eos_token") if token_text(config.get(key))}


def render_source(source, specials, conversations):
    """One dict per (conversation, add_generation_prompt): {"id", "text"} or {"id", "error"}."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    template = env.from_string(source)
    out = []
    for conv in conversations:
        for gen in (False, True):
            rid = f"{conv['name']}/gen{int(gen)}"
            try:
                text = template.render(messages=conv["messages"], tools=conv.get("tools"), documents=None,
                                       add_generation_prompt=gen, **specials, **conv.get("kwargs", {}))
                out.append({"id": rid, "text": text})
            except Exception as e:  # noqa: BLE001 - any template failure is an outcome to compare
                out.append({"id": rid, "error": f"{type(e).__name__}: {e}"})
    return out


def render_all(config_path, conversations_path):
    """render_source with the template and special tokens of a tokenizer_config.json."""
    config = json.load(open(config_path, encoding="utf-8"))
    conversations = json.load(open(conversations_path, encoding="utf-8"))
    return render_source(config["chat_template"], specials_of(config), conversations)


def main():
    for d in render_all(sys.argv[1], sys.argv[2]):
        print(json.dumps(d, ensure_ascii=False))


if __name__ == "__main__":
    main()
