#!/usr/bin/python3
"""The code's shape rules (docs/development.md), checked on every test run:
  - no source file over 800 lines (C++, Python and shell, in the project's folders);
  - no C++ function over 100 lines in the folders listed in FUNCTION_FOLDERS;
  - every folder of app/, pooler/, sql/ and analyzer/ has a README.md (it names what the folder may use);
  - nothing includes upward: nothing outside app/ includes app/; pooler/ and analyzer/ never include
    each other and sql/ includes neither; a folder below pooler/ (all but admin/ and ops/, which read
    the runtime for operators) includes no pooler/ file above it but the leaf headers in LEAF_HEADERS.
  - ClientSession (pooler/client_session.hpp) has at most MAX_SESSION_FIELDS data members of its
    own and of its nested Awake together: what only one part uses lives in that part.
  - no sleep in tests/ without `// time must pass: <why>` on its line or the line above (tests wait
    on conditions with a deadline; tests/README.md).
  - no co_await inside a conditional expression (`a ? b : co_await c`) in C++ code: built by GCC 12,
    such a line crashed the pooler (docs/development.md).
Usage: check_shape.py SOURCE_DIR. Prints each violation and exits 1 if there is any."""
import os
import re
import sys

MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 100
FILE_FOLDERS = ["app", "pooler", "sql", "analyzer", "tests", "bench", "scripts"]
FUNCTION_FOLDERS = ["app", "pooler", "sql", "analyzer"]
README_FOLDERS = ["app", "pooler", "sql", "analyzer"]
SESSION_HEADER = os.path.join("pooler", "client_session.hpp")
# Issue 16's goal is 25. A ratchet until the session's remaining fields have found their parts:
# lower it with every part that takes some, never raise it.
MAX_SESSION_FIELDS = 25
SOURCE_SUFFIXES = (".cpp", ".hpp", ".h", ".py", ".sh")
# Top-level pooler/ headers that include nothing of the pooler's: any part may use them.
LEAF_HEADERS = {"pooler/log.hpp", "pooler/net.hpp", "pooler/spawn.hpp", "pooler/buffer.hpp", "pooler/memory_budget.hpp"}
# pooler/ folders above the runtime: they read it (and the sessions) for the admin console, /metrics
# and the capture file.
OPS_FOLDERS = {"admin", "ops"}
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

_RAW = re.compile(r'R"([^(\s]{0,16})\(')


def strip_code(text):
    """The text with comments, string and character literals blanked (newlines kept), so that
    braces are only the code's."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
            continue
        m = _RAW.match(text, i) if c == "R" and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")) else None
        if m:
            end = text.find(")" + m.group(1) + '"', m.end())
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
            continue
        if c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


_CONTROL = re.compile(r"^\s*(if|for|while|switch|catch|else|do|try)\b")


def long_functions(text):
    """(first line, lines, head) of each function body longer than MAX_FUNCTION_LINES: a brace
    block whose head has a parameter list, opened where no function is open (at namespace or class
    level), so lambdas and blocks count toward their function."""
    code = strip_code(text)
    found = []
    stack = []  # kinds of open braces: "scope" (namespace, class, extern), "fn", "other"
    head_start, line = 0, 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c in ";{}":
            head = code[head_start:i]
            head_start = i + 1
            if c == ";":
                continue
            if c == "}":
                if stack:
                    kind, start, h = stack.pop()
                    if kind == "fn" and line - start + 1 > MAX_FUNCTION_LINES:
                        found.append((start, line - start + 1, h))
                continue
            in_function = any(k != "scope" for k, _, _ in stack)
            flat = " ".join(head.split())
            if in_function:
                kind = "other"
            elif re.search(r"\b(namespace|class|struct|union|enum)\b", flat) and "(" not in flat.split("{")[0].split(":")[0]:
                kind = "scope"
            elif re.search(r'extern\s*"', head) or flat.startswith("extern"):
                kind = "scope"
            elif ")" in flat and not _CONTROL.match(flat) and "=" not in flat.split("(")[0]:
                kind = "fn"
            else:
                kind = "other"
            stack.append((kind, line, flat[-90:]))
    return found


# A sleep in a test stands in for a condition unless it says why time itself must pass.
SLEEP_FOLDERS = ["tests"]
_SLEEP = re.compile(r"\b(sleep_for|sleep_until|usleep|nanosleep)\s*\(")
SLEEP_REASON = "// time must pass:"


def unexplained_sleeps_in(text):
    """Line numbers of the sleeps in C++ `text` (comments and strings ignored) with no
    SLEEP_REASON comment on their line or the line above."""
    raw = text.split("\n")
    found = []
    for i, line in enumerate(strip_code(text).split("\n")):
        if not _SLEEP.search(line):
            continue
        here = raw[i] if i < len(raw) else ""
        above = raw[i - 1] if i > 0 else ""
        if SLEEP_REASON not in here and SLEEP_REASON not in above:
            found.append(i + 1)
    return found


def unexplained_sleeps(root):
    problems = []
    for folder in SLEEP_FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for f in sorted(files):
                if not f.endswith((".cpp", ".hpp", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for line in unexplained_sleeps_in(text):
                    problems.append(f"{os.path.relpath(path, root)}:{line}: a sleep without '{SLEEP_REASON} <why>' "
                                    "(wait on the condition with a deadline instead)")
    return problems


_AWAIT_IN_CONDITIONAL = re.compile(r"\?[^;{}]*:\s*co_await\b|\?\s*co_await\b")


def awaits_in_conditionals(text):
    """Line numbers of a co_await that is an operand of ?: (comments and strings left out)."""
    code = strip_code(text)
    return [code.count("\n", 0, m.start()) + 1 for m in _AWAIT_IN_CONDITIONAL.finditer(code)]


def upward_includes(rel, text):
    """The includes of the file at `rel` (relative to the root) that run up a layer."""
    parts = rel.split(os.sep)
    out = []
    for inc in _INCLUDE.findall(text):
        top = inc.split("/")[0]
        if top == "app" and parts[0] != "app":
            out.append(inc)
        elif parts[0] == "sql" and top in ("pooler", "analyzer"):
            out.append(inc)
        elif {parts[0], top} == {"pooler", "analyzer"}:
            out.append(inc)
        elif parts[0] == "pooler" and len(parts) > 2 and parts[1] not in OPS_FOLDERS and top == "pooler":
            sub = inc.split("/")
            if len(sub) == 2 and inc not in LEAF_HEADERS:
                out.append(inc)
            elif len(sub) > 2 and sub[1] in OPS_FOLDERS:
                out.append(inc)
    return out


def _block_end(code, open_at):
    """Index of the brace closing the one at `open_at`."""
    depth = 0
    for i in range(open_at, len(code)):
        if code[i] == "{":
            depth += 1
        elif code[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(code)


def _body(code, pattern):
    """The text inside the braces of the first definition matching `pattern` (a class or struct
    head), or None."""
    m = re.search(pattern + r"[^;{]*\{", code)
    if not m:
        return None
    open_at = m.end() - 1
    return code[open_at + 1:_block_end(code, open_at)]


_NOT_FIELD = re.compile(r"^(static|using|friend|typedef|template|enum|struct|class|union)\b")


def data_members(body):
    """Names of the data members declared directly in a class body (comments stripped): nested
    types, functions (with or without bodies), static members, using and friend are not counted;
    `bool a = false, b = true;` counts two."""
    names, head, i = [], "", 0
    while i < len(body):
        c = body[i]
        if c == "{":
            flat = " ".join(head.split())
            in_parens = flat.count("(") > flat.count(")")  # a default argument's braces
            if not in_parens and ("(" in flat.split("=")[0] or re.search(r"\b(struct|class|enum|union)\b", flat)):
                i = _block_end(body, i) + 1  # a function's body or a nested type: not a member
                head = ""
                continue
            end = _block_end(body, i)  # a brace initializer: part of the declaration
            head += body[i:end + 1]
            i = end + 1
            continue
        if c == ";":
            decl = re.sub(r"^\s*((public|private|protected)\s*:\s*)+", "", " ".join(head.split()))
            head = ""
            i += 1
            if not decl or _NOT_FIELD.match(decl) or "(" in decl.split("=")[0].split("{")[0]:
                continue
            depth, parts, cur = 0, [], ""
            for ch in decl:  # declarators at template/paren depth 0
                depth += ch in "<({[" and 1 or 0
                depth -= ch in ">)}]" and 1 or 0
                if ch == "," and depth == 0:
                    parts.append(cur)
                    cur = ""
                else:
                    cur += ch
            parts.append(cur)
            for part in parts:
                m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*(=.*|\{.*\})?$", part.strip())
                if m:
                    names.append(m.group(1))
            continue
        head += c
        i += 1
    return names


def session_fields(text):
    """ClientSession's own data members and its nested Awake's."""
    code = strip_code(text)
    session = _body(code, r"\bclass\s+ClientSession\b")
    if session is None:
        return None
    awake = _body(session, r"\bstruct\s+Awake\b") or ""
    return data_members(session) + data_members(awake)


def main(root):
    problems = []
    for folder in FILE_FOLDERS:
        for dirpath, _, files in os.walk(os.path.join(root, folder)):
            for f in sorted(files):
                if not f.endswith(SOURCE_SUFFIXES):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                with open(path, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                lines = text.count("\n")
                if lines > MAX_FILE_LINES:
                    problems.append(f"{rel}: {lines} lines (split it by concern; at most {MAX_FILE_LINES})")
                if f.endswith((".cpp", ".hpp", ".h")) and rel.split(os.sep)[0] in FUNCTION_FOLDERS:
                    for start, n, head in long_functions(text):
                        problems.append(f"{rel}:{start}: a function of {n} lines (at most {MAX_FUNCTION_LINES}): {head}")
                    for line in awaits_in_conditionals(text):
                        problems.append(f"{rel}:{line}: co_await inside a conditional expression (use an if)")
                    for inc in upward_includes(rel, text):
                        problems.append(f"{rel}: includes {inc}, a layer above it (see its folder's README)")
    for folder in README_FOLDERS:
        for dirpath, _, _ in os.walk(os.path.join(root, folder)):
            if not os.path.exists(os.path.join(dirpath, "README.md")):
                problems.append(f"{os.path.relpath(dirpath, root)}/: no README.md")
    problems += unexplained_sleeps(root)
    header = os.path.join(root, SESSION_HEADER)
    if os.path.exists(header):
        with open(header, encoding="utf-8") as fh:
            fields = session_fields(fh.read())
        if fields is None:
            problems.append(f"{SESSION_HEADER}: no class ClientSession found")
        elif len(fields) > MAX_SESSION_FIELDS:
            problems.append(f"{SESSION_HEADER}: ClientSession and its Awake have {len(fields)} fields (at most "
                            f"{MAX_SESSION_FIELDS}; give what one part uses to that part): {' '.join(fields)}")
    for p in problems:
        print(p)
    print(f"check_shape: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
