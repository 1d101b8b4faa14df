#!/usr/bin/env python3
"""What the docs say against what is there (docs_consistency.sh).

flags PROG MANPAGE.in MIN: the options of PROG --help and of the OPTIONS
  section of the man page source (the tag line after each .TP) are the same
  set, of at least MIN options. Prints one line per difference.
layout README SRCDIR...: every src/ file is named by README's Layout section
  (its stem, a stem it extends with _int, or a glob such as html*.c), and
  every file name the section gives (x.c, x.h, dir/x*.c) exists.
"""
import fnmatch
import os
import re
import subprocess
import sys

FLAG = r'(?<![\w.\\-])--?(?:\[no-\])?[A-Za-z][\w.-]*'


def help_flags(prog):
    p = subprocess.run([prog, "--help"], capture_output=True, text=True, check=False)
    flags = set()
    for line in (p.stdout + p.stderr).splitlines():
        m = re.match(r'^\s{1,8}(-.*?)(?:\s{2,}|$)', line)
        if m:
            flags.update(f.replace("[no-]", "") for f in re.findall(FLAG, m.group(1)))
    return flags


def man_flags(path):
    flags, sec, tag = set(), None, False
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith(".SH"):
            sec = line[3:].strip().strip('"')
        elif sec == "OPTIONS" and line.startswith(".TP"):
            tag = True
        elif tag:
            tag = False
            t = re.sub(r'\\f[BIRP]', ' ', line.replace("\\-", "-"))
            flags.update(f.replace("[no-]", "") for f in re.findall(FLAG, t))
    return flags


def flags(prog, man, minimum):
    h, m = help_flags(prog), man_flags(man)
    bad = 0
    for f in sorted(h - m):
        print(f"{f}: in {os.path.basename(prog)} --help, not an option of {man}")
        bad += 1
    for f in sorted(m - h):
        print(f"{f}: an option of {man}, not in {os.path.basename(prog)} --help")
        bad += 1
    print(f"compared {len(h | m)} options ({len(h)} in --help, {len(m)} in the man page)")
    if len(h & m) < minimum:
        print(f"only {len(h & m)} options in both, expected at least {minimum}")
        bad += 1
    return bad


def layout(readme, dirs):
    text = open(readme, encoding="utf-8").read()
    block = text.split("\n## Layout\n", 1)[1].split("```", 2)[1]
    secs, cur = {}, None
    for line in block.splitlines():
        m = re.match(r'^(\S+/)\s', line + " ")
        if m:
            cur = m.group(1)
            secs[cur] = line[len(cur):] + "\n"
        elif cur:
            secs[cur] += line + "\n"
    bad = checked = 0
    for d in secs:
        if not os.path.isdir(d):
            print(f"{d}: listed in the Layout section, not a directory")
            bad += 1
    for d in dirs:
        if d not in secs:
            print(f"{d}: not in the Layout section")
            bad += 1
            continue
        txt = secs[d]
        toks = set(re.findall(r'[\w*./]+', txt))
        names = set()
        for t in toks:
            for part in [t.strip("./")] + t.split("/"):
                names.add(part)
                names.add(re.sub(r'\.(c|h)$', '', part))
        globs = [t.strip(".") for t in toks if "*" in t]
        for t in toks:  # every file name given exists (or is said to be generated)
            t = t.rstrip(".")
            if not re.search(r'\.(c|h)$', t) and "*" not in t:
                continue
            path = t if t.startswith("src/") else d + t
            if "*" in path:
                ok = any(fnmatch.fnmatch(f, os.path.basename(path))
                         for f in os.listdir(os.path.dirname(path)))
            else:
                ok = os.path.exists(path) or re.search(re.escape(t) + r'[^\n]*\n?[^\n]*generated', txt)
            checked += 1
            if not ok:
                print(f"{path}: named in the Layout section, no such file")
                bad += 1
        def named(f):
            stem = f.split(".", 1)[0]
            return f in names or stem in names or re.sub(r'_int$', '', stem) in names or \
                any(fnmatch.fnmatch(f, os.path.basename(g)) for g in globs if "/" not in g or g.startswith(d))

        for f in sorted(os.listdir(d)):
            checked += 1
            # a header is covered by its .c (html*.c covers htmlhist.h)
            if named(f) or (f.endswith(".h") and named(f[:-2] + ".c")):
                continue
            print(f"{d}{f}: not named in README's Layout section")
            bad += 1
    print(f"checked {checked} files and names")
    return bad, checked


if __name__ == "__main__":
    if sys.argv[1] == "flags":
        sys.exit(1 if flags(sys.argv[2], sys.argv[3], int(sys.argv[4])) else 0)
    bad, checked = layout(sys.argv[2], sys.argv[3:])
    sys.exit(1 if bad or checked < 200 else 0)
