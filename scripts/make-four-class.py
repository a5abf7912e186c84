#!/usr/bin/env python3
"""A four-class benchmark set of texts of 40-60 words, built from the shared SST-2 and OffensEval files.

Classes: 0 = SST-2 negative, 1 = SST-2 positive, 2 = OffensEval not offensive, 3 = OffensEval offensive.
A text is sentences of one class and one split joined with spaces, drawn without replacement in a
seeded order, until it has at least 40 words; a text that would pass 60 words is dropped and its
sentences are not reused. Each class is capped at --per-class texts per split (train; dev and test
take a tenth and a fifth of it), so the classes stay near balanced. Writes OUT/clean/{train,dev,test}.tsv
in the shared layout (`sentence<TAB>label`), which `--dataset OUT` of `attack`, `poison` and `bench` reads.

Usage: scripts/make-four-class.py [--data-dir ../shared/data] [--out DIR] [--per-class 1000] [--seed 42]
Standard library only; the same seed gives the same files.
"""
import argparse
import os
import random
import sys

MIN_WORDS, MAX_WORDS = 40, 60
SOURCES = [("sst-2", {0: 0, 1: 1}), ("offenseval", {0: 2, 1: 3})]


def read(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header[:2] != ["sentence", "label"]:
            sys.exit(f"{path}: expected the header 'sentence<TAB>label'")
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 2 and parts[0].strip():
                rows.append((" ".join(parts[0].split()), int(parts[1])))
    return rows


def texts(sentences, cap, rng):
    rng.shuffle(sentences)
    out, words, current = [], 0, []
    for s in sentences:
        n = len(s.split())
        if words + n > MAX_WORDS:
            current, words = [], 0  # drop the text that would run over, start afresh
            if n > MAX_WORDS:
                continue
        current.append(s)
        words += n
        if words >= MIN_WORDS:
            out.append(" ".join(current))
            current, words = [], 0
            if len(out) == cap:
                break
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=os.path.join(here, "..", "..", "shared", "data"))
    p.add_argument("--out", default="four-class")
    p.add_argument("--per-class", type=int, default=1000)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    caps = {"train": a.per_class, "dev": max(1, a.per_class // 10), "test": max(1, a.per_class // 5)}
    os.makedirs(os.path.join(a.out, "clean"), exist_ok=True)
    for split, cap in caps.items():
        rng = random.Random(f"{a.seed}:{split}")
        rows = []
        for name, classes in SOURCES:
            source = read(os.path.join(a.data_dir, name, "clean", split + ".tsv"))
            for label, cls in classes.items():
                rows += [(t, cls) for t in texts([s for s, l in source if l == label], cap, rng)]
        rng.shuffle(rows)
        path = os.path.join(a.out, "clean", split + ".tsv")
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("sentence\tlabel\n")
            for t, c in rows:
                f.write(f"{t}\t{c}\n")
        os.replace(tmp, path)
        counts = [sum(1 for _, c in rows if c == k) for k in range(4)]
        print(f"{path}: {len(rows)} texts, per class {counts}")


if __name__ == "__main__":
    main()
