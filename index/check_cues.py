#!/usr/bin/env python3
"""Validate index/cues.toml (standard library only).

Usage:
    python3 index/check_cues.py [path/to/cues.toml] [--min N] [--quiet]

Checks (errors make the script exit with status 1):
  - the file parses with tomllib and holds only [[cue]] tables;
  - every topic id of the taxonomy is present exactly once, spelled as in topics.toml,
    and no unknown topic appears;
  - every cue table has `topic` and exactly the six languages en, de, fr, es, pt, ar,
    each a list of non-empty strings without surrounding or doubled whitespace;
  - no duplicate cue within a topic-language (compared lower-cased, accent-folded,
    punctuation-insensitive; Arabic also with diacritics and letter variants folded);
  - no cue repeats a term of the same topic and language in index/topics.toml
    (same normalisation);
  - each topic-language has at least --min cues (default 60).

Warnings (printed, do not fail):
  - a cue that equals a term of the same topic after crude suffix stripping (the engine
    uses Snowball stemmers, which this script only approximates: inspect and decide);
  - a cue that equals a term of ANOTHER topic (it would pull the text towards that topic
    too: keep it only when it truly signals both);
  - a cue listed under more than one topic in the same language (allowed if it truly
    signals both; listed for review);
  - cues longer than 5 words (long phrases rarely occur verbatim in a text);
  - a single-word Latin-script cue shorter than 4 letters (likely ambiguous).

Finally prints the number of cues per topic and language.
"""

import re
import sys
import tomllib
import unicodedata
from pathlib import Path

LANGS = ["en", "de", "fr", "es", "pt", "ar"]
TOPIC_IDS = [
    "participation", "e-government", "financing", "transparency", "migration",
    "mobility", "flood-risk", "climate-adaptation", "disaster-risk", "housing",
    "public-space", "energy", "water", "waste",
    "business-promotion", "employment", "tourism", "informal-economy",
]

AR_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
AR_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})


def norm(text: str, lang: str) -> str:
    """Lower-case, fold accents / Arabic variants, drop punctuation, collapse spaces."""
    t = text.strip().lower()
    if lang == "ar":
        t = AR_DIACRITICS.sub("", t).translate(AR_FOLD)
    else:
        t = t.replace("ß", "ss")
        t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = re.sub(r"[^\w\s]", " ", t)
    return " ".join(t.split())


SUFFIXES = {
    "en": ["ies", "ing", "es", "ed", "s"],
    "de": ["ungen", "ern", "en", "er", "es", "e", "n", "s"],
    "fr": ["ements", "ement", "aux", "es", "s", "e", "x"],
    "es": ["ciones", "cion", "es", "s", "a", "o"],
    "pt": ["coes", "cao", "oes", "aes", "es", "s", "a", "o"],
    "ar": ["ات", "ون", "ين", "ه", "ي"],
}


def crude_stem(text: str, lang: str) -> str:
    """Very rough approximation of stemming, for warnings only."""
    words = []
    for w in norm(text, lang).split():
        if lang == "ar":
            for pre in ("وال", "بال", "لل", "ال"):
                if w.startswith(pre) and len(w) - len(pre) >= 3:
                    w = w[len(pre):]
                    break
        # Latin-script languages: strip a plural ending first, then one more suffix.
        passes = 1 if lang in ("ar", "de") else 2
        for _ in range(passes):
            for suf in SUFFIXES[lang]:
                if w.endswith(suf) and len(w) - len(suf) >= 3:
                    w = w[: -len(suf)]
                    break
        words.append(w)
    return " ".join(words)


def main() -> int:
    args = [a for a in sys.argv[1:]]
    min_count = 60
    quiet = False
    if "--min" in args:
        i = args.index("--min")
        min_count = int(args[i + 1])
        del args[i:i + 2]
    if "--quiet" in args:
        quiet = True
        args.remove("--quiet")
    here = Path(__file__).resolve().parent
    cues_path = Path(args[0]) if args else here / "cues.toml"
    topics_path = here / "topics.toml"

    errors: list[str] = []
    warnings: list[str] = []

    try:
        with open(cues_path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        print(f"ERROR: cannot load {cues_path}: {e}")
        return 1

    # Terms from topics.toml, for overlap checks.
    terms: dict[str, dict[str, list[str]]] = {}
    try:
        with open(topics_path, "rb") as f:
            tdata = tomllib.load(f)
        for t in tdata.get("topic", []):
            terms[t["id"]] = {l: list(t.get("terms", {}).get(l, [])) for l in LANGS}
        if sorted(terms) != sorted(TOPIC_IDS):
            warnings.append(f"topics.toml ids differ from the expected list: {sorted(terms)}")
    except (OSError, tomllib.TOMLDecodeError, KeyError) as e:
        warnings.append(f"cannot read {topics_path} ({e}); term-overlap checks skipped")

    extra_keys = set(data) - {"cue"}
    if extra_keys:
        errors.append(f"unexpected top-level keys: {sorted(extra_keys)}")
    cues = data.get("cue", [])
    if not isinstance(cues, list):
        errors.append("`cue` must be an array of tables ([[cue]])")
        cues = []

    seen_topics: dict[str, int] = {}
    table: dict[str, dict[str, list[str]]] = {}
    for i, entry in enumerate(cues):
        where = f"[[cue]] #{i + 1}"
        if not isinstance(entry, dict):
            errors.append(f"{where}: not a table")
            continue
        topic = entry.get("topic")
        if not isinstance(topic, str):
            errors.append(f"{where}: missing or non-string `topic`")
            continue
        where = f"{where} ({topic})"
        seen_topics[topic] = seen_topics.get(topic, 0) + 1
        if topic not in TOPIC_IDS:
            errors.append(f"{where}: unknown topic id")
        unknown = set(entry) - {"topic", *LANGS}
        if unknown:
            errors.append(f"{where}: unexpected keys {sorted(unknown)}")
        table[topic] = {}
        for lang in LANGS:
            lst = entry.get(lang)
            if lst is None:
                errors.append(f"{where}: language `{lang}` missing")
                table[topic][lang] = []
                continue
            if not isinstance(lst, list) or not all(isinstance(x, str) for x in lst):
                errors.append(f"{where}.{lang}: must be a list of strings")
                table[topic][lang] = []
                continue
            table[topic][lang] = lst
            seen: dict[str, str] = {}
            for cue in lst:
                if not cue.strip():
                    errors.append(f"{where}.{lang}: empty cue")
                    continue
                if cue != cue.strip() or "  " in cue:
                    errors.append(f"{where}.{lang}: stray whitespace in {cue!r}")
                key = norm(cue, lang)
                if key in seen:
                    errors.append(f"{where}.{lang}: duplicate cue {cue!r} (same as {seen[key]!r})")
                else:
                    seen[key] = cue
                nwords = len(key.split())
                if nwords > 5:
                    warnings.append(f"{topic}.{lang}: long cue ({nwords} words): {cue!r}")
                if lang != "ar" and nwords == 1 and len(key) < 4:
                    warnings.append(f"{topic}.{lang}: very short single-word cue {cue!r}")
            if len(lst) < min_count:
                errors.append(f"{where}.{lang}: only {len(lst)} cues (minimum {min_count})")

    for tid in TOPIC_IDS:
        n = seen_topics.get(tid, 0)
        if n == 0:
            errors.append(f"topic `{tid}` missing")
        elif n > 1:
            errors.append(f"topic `{tid}` appears {n} times")

    # Overlap with topics.toml terms.
    if terms:
        for lang in LANGS:
            exact: dict[str, list[str]] = {}
            stem: dict[str, list[str]] = {}
            for tid, by_lang in terms.items():
                for term in by_lang.get(lang, []):
                    exact.setdefault(norm(term, lang), []).append(tid)
                    stem.setdefault(crude_stem(term, lang), []).append(tid)
            for tid, by_lang in table.items():
                for cue in by_lang.get(lang, []):
                    k = norm(cue, lang)
                    owners = set(exact.get(k, []))
                    if tid in owners:
                        errors.append(f"{tid}.{lang}: cue {cue!r} repeats a term of the same topic")
                        continue
                    s_owners = set(stem.get(crude_stem(cue, lang), []))
                    if tid in s_owners:
                        warnings.append(f"{tid}.{lang}: cue {cue!r} ~ term of the same topic (crude stem)")
                    others = (owners | s_owners) - {tid}
                    if others:
                        warnings.append(f"{tid}.{lang}: cue {cue!r} matches term(s) of {sorted(others)}")

    # Same cue under several topics.
    for lang in LANGS:
        where_seen: dict[str, list[str]] = {}
        for tid, by_lang in table.items():
            for cue in by_lang.get(lang, []):
                where_seen.setdefault(norm(cue, lang), []).append(tid)
        for key, tids in sorted(where_seen.items()):
            if len(set(tids)) > 1:
                warnings.append(f"{lang}: {key!r} listed under {sorted(set(tids))}")

    if not quiet:
        for w in warnings:
            print("warning:", w)
    for e in errors:
        print("ERROR:", e)

    # Counts table.
    print()
    header = f"{'topic':<20}" + "".join(f"{l:>6}" for l in LANGS) + f"{'total':>8}"
    print(header)
    print("-" * len(header))
    grand = 0
    for tid in TOPIC_IDS:
        row = table.get(tid, {})
        counts = [len(row.get(l, [])) for l in LANGS]
        grand += sum(counts)
        print(f"{tid:<20}" + "".join(f"{c:>6}" for c in counts) + f"{sum(counts):>8}")
    print("-" * len(header))
    col = [sum(len(table.get(t, {}).get(l, [])) for t in TOPIC_IDS) for l in LANGS]
    print(f"{'all':<20}" + "".join(f"{c:>6}" for c in col) + f"{grand:>8}")
    print(f"\n{len(errors)} error(s), {len(warnings)} warning(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
