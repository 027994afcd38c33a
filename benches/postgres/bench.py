#!/usr/bin/env python3
"""Helper of run.sh: turns the shared request set into SQL (one pgbench script per request),
checks every statement once, and summarises pgbench's per-transaction logs.

    bench.py scripts  --requests DIR --regions FILE --out DIR
    bench.py check    --manifest FILE --psql 'psql ...' --out FILE
    bench.py summarize --runs FILE --out FILE [--meta FILE]

Only the standard library: the machine needs nothing beyond python3 and PostgreSQL.
"""

import argparse
import glob
import json
import math
import os
import re
import subprocess
import sys

# The request's language -> the text search configuration of schema.sql. A competent team
# knows the language of the request from its UI or Accept-Language.
CONFIG = {
    "en": "cp_english",
    "de": "cp_german",
    "fr": "cp_french",
    "es": "cp_spanish",
    "pt": "cp_portuguese",
}

SEARCH_KINDS = ["plain_text", "text_filters", "browse_facets", "typo"]
MATCH_KINDS = ["long_challenge", "short_challenge"]

# Profile fields returned with every hit or match (the public view: no email or phone).
EXPERT_JSON = (
    "json_build_object('id', x.id, 'name', x.name, 'position', x.position, "
    "'organisation', x.organisation, 'city', x.city, 'country', x.country, "
    "'languages', x.languages, 'topics', x.tagged_topics, 'regions', x.regions, "
    "'expertise', x.expertise, 'bio', x.bio, 'available', x.available, "
    "'status', x.status, 'updated_at', x.updated_at)"
)

HEADLINE_OPTIONS = "MaxFragments=1, MaxWords=30, MinWords=15, StartSel=<mark>, StopSel=</mark>"


def lit(text):
    """A SQL string literal (standard_conforming_strings is on). pgbench reads ':name' as a
    variable even inside quotes, so a colon before a letter or digit closes the literal and
    the rest is concatenated."""
    quoted = "'" + str(text).replace("'", "''") + "'"
    if re.search(r":[A-Za-z0-9_]", quoted):
        quoted = "(" + re.sub(r":(?=[A-Za-z0-9_])", ":' || '", quoted) + ")"
    return quoted


def arr(values):
    return "ARRAY[" + ", ".join(lit(v) for v in values) + "]::text[]"


def listing_values(params, name):
    raw = params.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    values = []
    for item in raw:
        for value in str(item).split(","):
            value = value.strip()
            if value and value not in values:
                values.append(value)
    return values


def search_sql(request):
    """GET /v1/experts: total, a page of hits with a highlight, and facet counts where each
    dimension is counted over the OTHER filters (citypeers' contract)."""
    params = request["params"]
    kind = request["kind"]
    cfg = CONFIG.get(request.get("lang", "en"), "cp_simple")
    q = (params.get("q") or "").strip()
    limit = int(params.get("limit", 20))
    offset = int(params.get("offset", 0))

    topics = listing_values(params, "topic")
    regions = listing_values(params, "region")
    countries = [c.upper() for c in listing_values(params, "country")]
    languages = [l.lower() for l in listing_values(params, "language")]
    conditions = {
        "pt": f"e.topics && {arr(topics)}" if topics else None,
        "pr": f"e.regions && {arr(regions)}" if regions else None,
        "pc": (f"e.country = {lit(countries[0])}" if len(countries) == 1
               else f"e.country = ANY ({arr(countries)})") if countries else None,
        "pl": f"e.languages && {arr(languages)}" if languages else None,
    }
    flags = ",\n         ".join(f"{c or 'true'} AS {name}" for name, c in conditions.items())
    active = [c for c in conditions.values() if c]
    all_pass = " AND ".join(active) if active else "true"

    if not q:
        return browse_sql(conditions, limit, offset)

    ctes = []
    where = ["e.status = 'published'"]
    if kind == "typo":
        # pg_trgm: replace each query word by the closest word of the profiles' lexicon
        # (itself when it is spelled right), then search as usual; also match names by
        # trigram similarity.
        ctes.append(f"""words AS (
  SELECT w, i FROM regexp_split_to_table(cp_fold({lit(q)}), '\W+') WITH ORDINALITY AS t(w, i)
  WHERE w <> ''
)""")
        ctes.append(f"""q AS MATERIALIZED (
  SELECT websearch_to_tsquery('{cfg}', string_agg(coalesce(
           (SELECT l.word FROM lexicon l WHERE l.word % words.w
            ORDER BY l.word <-> words.w, l.ndoc DESC LIMIT 1), words.w), ' ' ORDER BY i)) AS tsq,
         cp_fold({lit(q)}) AS name_key
  FROM words
)""")
        where.append("(e.tsv @@ (SELECT tsq FROM q) OR e.name_key % (SELECT name_key FROM q))")
        score = ("greatest(ts_rank_cd(e.tsv, (SELECT tsq FROM q), 32), "
                 "similarity(e.name_key, (SELECT name_key FROM q)))")
    else:
        ctes.append(f"q AS MATERIALIZED (SELECT websearch_to_tsquery('{cfg}', {lit(q)}) AS tsq)")
        where.append("e.tsv @@ (SELECT tsq FROM q)")
        score = "ts_rank_cd(e.tsv, (SELECT tsq FROM q), 32)"

    # The rows that match the text are few: read them once (with a flag per filter) and count
    # every facet from that set. Only rows failing at most one filter can count anywhere.
    if len(active) >= 2:
        subsets = []
        for skip in range(len(active)):
            subsets.append("(" + " AND ".join(c for j, c in enumerate(active) if j != skip) + ")")
        where.append("(" + " OR ".join(subsets) + ")")

    ctes.append(f"""m AS MATERIALIZED (
  SELECT e.id, e.topics, e.regions, e.country, e.languages,
         {flags},
         CASE WHEN {all_pass} THEN {score} END AS score
  FROM experts e
  WHERE {' AND '.join(where)}
)""")
    ctes.append(f"""hits AS (
  SELECT id, score FROM m WHERE pt AND pr AND pc AND pl
  ORDER BY score DESC, id LIMIT {limit} OFFSET {offset}
)""")
    highlight = (f"'highlights', json_build_object('expertise', ts_headline(cp_config(x.languages[1]), "
                 f"x.expertise, (SELECT tsq FROM q), '{HEADLINE_OPTIONS}')), ")

    def facet(column, condition, unnest=True):
        value = f"unnest({column})" if unnest else column
        return (f"(SELECT coalesce(json_object_agg(v, n ORDER BY v), '{{}}') FROM "
                f"(SELECT {value} AS v, count(*) AS n FROM m WHERE {condition} GROUP BY 1) f)")

    return f"""WITH {(','+chr(10)).join(ctes)}
SELECT json_build_object(
  'total', (SELECT count(*) FROM m WHERE pt AND pr AND pc AND pl),
  'hits', coalesce((SELECT json_agg(json_build_object('expert', {EXPERT_JSON}, {highlight}'score', h.score)
                    ORDER BY h.score DESC, h.id)
                    FROM hits h JOIN experts x ON x.id = h.id), '[]'),
  'facets', json_build_object(
    'topic', {facet('topics', 'pr AND pc AND pl')},
    'region', {facet('regions', 'pt AND pc AND pl')},
    'country', {facet('country', 'pt AND pr AND pl', unnest=False)},
    'language', {facet('languages', 'pt AND pr AND pc')}));
"""


def browse_sql(conditions, limit, offset):
    """Without q: newest first, and each facet is its own aggregate over the published rows
    that pass the other filters, so each can use the GIN / btree indexes of those filters."""
    def where(skip=None):
        parts = ["e.status = 'published'"]
        parts += [c for name, c in conditions.items() if c and name != skip]
        return " AND ".join(parts)

    def facet(column, skip, unnest=True):
        value = f"unnest(e.{column})" if unnest else f"e.{column}"
        return (f"(SELECT coalesce(json_object_agg(v, n ORDER BY v), '{{}}') FROM "
                f"(SELECT {value} AS v, count(*) AS n FROM experts e WHERE {where(skip)} GROUP BY 1) f)")

    return f"""WITH hits AS (
  SELECT e.id, e.updated_at FROM experts e WHERE {where()}
  ORDER BY e.updated_at DESC, e.id LIMIT {limit} OFFSET {offset}
)
SELECT json_build_object(
  'total', (SELECT count(*) FROM experts e WHERE {where()}),
  'hits', coalesce((SELECT json_agg(json_build_object('expert', {EXPERT_JSON}, 'score', NULL)
                    ORDER BY h.updated_at DESC, h.id)
                    FROM hits h JOIN experts x ON x.id = h.id), '[]'),
  'facets', json_build_object(
    'topic', {facet('topics', 'pt')},
    'region', {facet('regions', 'pr')},
    'country', {facet('country', 'pc', unnest=False)},
    'language', {facet('languages', 'pl')}));
"""


def match_sql(request, subregion_of):
    """POST /v1/match: hard filters (published, available, shares a requested language, not
    from the requester's city), candidates by text OR topics OR linked relevant case, ranked by
    a weighted sum in citypeers' proportions (text 0.25, topics 0.40, region 0.15,
    evidence 0.10), at most 2 experts of one city in the top 10."""
    body = request["body"]
    cfg = CONFIG.get(request.get("lang", "en"), "cp_simple")
    challenge = (body.get("challenge") or "").strip()
    topics = [t for t in dict.fromkeys(body.get("topics") or [])]
    languages = [l.lower() for l in dict.fromkeys(body.get("languages") or [])]
    regions = list(dict.fromkeys(body.get("regions") or []))
    country = (body.get("country") or "").strip().upper()
    city = (body.get("city") or "").strip()
    limit = int(body.get("limit") or 10)

    hard = ["e.status = 'published'", "e.available"]
    if languages:
        hard.append(f"e.languages && {arr(languages)}")
    if city:
        if country:
            hard.append(f"NOT (e.city_key = cp_fold({lit(city)}) AND e.country = {lit(country)})")
        else:
            hard.append(f"e.city_key <> cp_fold({lit(city)})")
    hard_sql = " AND ".join(hard)

    # Long texts: every word counts, so the words are OR-ed (plainto_tsquery ANDs them).
    tsq = f"replace(plainto_tsquery('{cfg}', {lit(challenge)})::text, ' & ', ' | ')::tsquery"
    if topics:
        topic_expr = (f"(SELECT count(*) FROM unnest({arr(topics)}) AS w WHERE w = ANY (e.topics))::real"
                      f" / {len(topics)}")
        case_topic = f" + 0.5 * (c.topics && {arr(topics)})::int"
        case_match = f"(c.tsv @@ (SELECT tsq FROM q) OR c.topics && {arr(topics)})"
        expert_match = f"(e.tsv @@ (SELECT tsq FROM q) OR e.topics && {arr(topics)})"
    else:
        topic_expr = "0::real"
        case_topic = ""
        case_match = "c.tsv @@ (SELECT tsq FROM q)"
        expert_match = "e.tsv @@ (SELECT tsq FROM q)"
    if regions:
        region_expr, region_weight = f"(e.regions && {arr(regions)})::int", 0.15
    elif country and subregion_of.get(country):
        region_expr, region_weight = f"(e.regions && {arr([subregion_of[country]])})::int", 0.05
    else:
        region_expr, region_weight = "0", 0.0

    features = (f"e.id, e.city_key, e.country, ts_rank(e.tsv, (SELECT tsq FROM q), 32) AS text, "
                f"{topic_expr} AS topic, {region_expr} AS region")
    return f"""WITH q AS MATERIALIZED (SELECT {tsq} AS tsq),
ev AS MATERIALIZED (
  SELECT c.id, c.title, c.experts, ts_rank(c.tsv, (SELECT tsq FROM q), 32){case_topic} AS r
  FROM cases c
  WHERE c.status = 'published' AND {case_match}
  ORDER BY r DESC, c.id LIMIT 50
),
evidence AS (SELECT x AS id, max(r) AS r FROM ev, unnest(ev.experts) AS x GROUP BY x),
cand AS MATERIALIZED (
  SELECT {features}, coalesce(v.r, 0) AS evidence
  FROM experts e LEFT JOIN evidence v ON v.id = e.id
  WHERE {hard_sql} AND {expert_match}
  UNION ALL
  SELECT {features}, v.r AS evidence
  FROM evidence v JOIN experts e ON e.id = v.id
  WHERE {hard_sql} AND NOT {expert_match}
),
scored AS (
  SELECT id, city_key, country, text, topic, region, evidence,
         0.25 * coalesce(text / nullif(max(text) OVER (), 0), 0) + 0.40 * topic
         + {region_weight} * region + 0.10 * coalesce(evidence / nullif(max(evidence) OVER (), 0), 0) AS score
  FROM cand
),
top AS (
  SELECT * FROM (
    SELECT s.*, row_number() OVER (PARTITION BY city_key, country ORDER BY score DESC, id) AS nth
    FROM (SELECT * FROM scored ORDER BY score DESC, id LIMIT 100) s) d
  WHERE nth <= 2
  ORDER BY score DESC, id LIMIT {limit}
)
SELECT json_build_object('matches', coalesce(json_agg(json_build_object(
         'expert', {EXPERT_JSON}, 'score', t.score,
         'breakdown', json_build_object('text', t.text, 'topic', t.topic, 'region', t.region, 'evidence', t.evidence),
         'cases', (SELECT coalesce(json_agg(json_build_object('id', ev.id, 'title', ev.title)), '[]')
                   FROM ev WHERE x.id = ANY (ev.experts)))
       ORDER BY t.score DESC, t.id), '[]'))
FROM top t JOIN experts x ON x.id = t.id;
"""


def read_jsonl(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def cmd_scripts(args):
    regions = json.load(open(args.regions, encoding="utf-8"))["regions"]
    subregion_of = {}
    for region in regions:
        if region["level"] == "subregion":
            for country in region["countries"]:
                subregion_of[country] = region["slug"]
    os.makedirs(args.out, exist_ok=True)
    manifest = []
    for family, name in (("search", "search.jsonl"), ("match", "match.jsonl")):
        for number, request in enumerate(read_jsonl(os.path.join(args.requests, name)), 1):
            kind = request["kind"]
            known = SEARCH_KINDS if family == "search" else MATCH_KINDS
            if kind not in known:
                sys.exit(f"{name} line {number}: unknown kind {kind!r}")
            sql = search_sql(request) if family == "search" else match_sql(request, subregion_of)
            # pgbench reads one statement per line unless it ends with ';': keep it on one line
            # per statement by joining lines (SQL is whitespace-insensitive here; no -- comments).
            flat = " ".join(line.strip() for line in sql.splitlines() if line.strip())
            path = os.path.join(args.out, f"{family}-{number:03d}-{kind}.sql")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(flat + "\n")
            manifest.append({"family": family, "line": number, "kind": kind,
                             "lang": request.get("lang"), "file": path,
                             "label": request.get("params", {}).get("q")
                             or (request.get("body", {}).get("challenge") or "")[:60]
                             or json.dumps({k: v for k, v in request.get("params", {}).items() if v and k != "limit"})})
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1, ensure_ascii=False)
    counts = {}
    for entry in manifest:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    print("scripts: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def cmd_check(args):
    """Runs every statement once (also warms the cache) and records what it returned."""
    manifest = json.load(open(args.manifest, encoding="utf-8"))
    rows = []
    failed = 0
    for entry in manifest:
        run = subprocess.run(args.psql.split() + ["-XAtq", "-v", "ON_ERROR_STOP=1", "-f", entry["file"]],
                             capture_output=True, text=True)
        if run.returncode != 0:
            failed += 1
            print(f"FAILED {entry['file']}: {run.stderr.strip()}", file=sys.stderr)
            continue
        result = json.loads(run.stdout)
        row = {"kind": entry["kind"], "line": entry["line"], "lang": entry["lang"], "request": entry["label"]}
        if entry["family"] == "search":
            row["total"] = result["total"]
            row["hits"] = len(result["hits"])
            row["first"] = result["hits"][0]["expert"]["name"] if result["hits"] else None
            row["facet_values"] = sum(len(v) for v in result["facets"].values())
        else:
            row["matches"] = len(result["matches"])
            row["first"] = (f"{result['matches'][0]['expert']['name']} ({result['matches'][0]['expert']['city']})"
                            if result["matches"] else None)
        rows.append(row)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(rows, handle, indent=1, ensure_ascii=False)
    empty = [r for r in rows if (r.get("hits", r.get("matches")) or 0) == 0]
    print(f"checked {len(rows)} statements, {failed} failed, {len(empty)} returned nothing")
    for row in empty:
        print(f"  empty: {row['kind']} line {row['line']}: {row['request']}")
    if failed:
        sys.exit(1)


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def read_log(prefix):
    """pgbench -l lines: client tx_no time_us script_no epoch_s epoch_us [schedule_lag_us]."""
    latencies, lags, by_script = [], [], {}
    for path in sorted(glob.glob(prefix + ".*")):
        with open(path) as handle:
            for line in handle:
                fields = line.split()
                if len(fields) < 6 or fields[2] == "skipped":
                    continue
                latency = int(fields[2]) / 1000.0
                latencies.append(latency)
                by_script.setdefault(int(fields[3]), []).append(latency)
                if len(fields) >= 7:
                    lags.append(int(fields[6]) / 1000.0)
    return latencies, lags, by_script


def cmd_summarize(args):
    runs = read_jsonl(args.runs)
    meta = json.load(open(args.meta, encoding="utf-8")) if args.meta else {}
    manifest = {}
    if args.manifest:
        manifest = {entry["file"]: entry for entry in json.load(open(args.manifest, encoding="utf-8"))}
    kinds = {}
    for run in runs:
        latencies, lags, by_script = read_log(run["log_prefix"])
        latencies.sort()
        entry = {
            "command": run["command"],
            "requests": len(latencies),
            "requests_per_s": round(len(latencies) / run["duration_s"], 2),
            "p50_ms": round(percentile(latencies, 50), 3) if latencies else None,
            "p99_ms": round(percentile(latencies, 99), 3) if latencies else None,
            "max_ms": round(latencies[-1], 3) if latencies else None,
            "mean_ms": round(sum(latencies) / len(latencies), 3) if latencies else None,
        }
        entry["cpu_s"] = run["cpu_s"]
        entry["other_cpu_share"] = round(run["cpu_s"]["other"] / ((os.cpu_count() or 1) * run["duration_s"]), 3)
        if run["mode"] == "open":
            entry["target_rate_per_s"] = run["rate"]
            lags.sort()
            entry["schedule_lag_p99_ms"] = round(percentile(lags, 99), 3) if lags else None
        else:
            # Per request (pgbench's script number is the position of its -f option).
            entry["per_request"] = []
            for number, path in enumerate(run["files"]):
                values = sorted(by_script.get(number, []))
                info = manifest.get(path, {})
                entry["per_request"].append({
                    "file": f"{info.get('family', '?')}.jsonl line {info.get('line', '?')}",
                    "request": info.get("label"), "n": len(values),
                    "p50_ms": round(percentile(values, 50), 3) if values else None,
                    "max_ms": round(values[-1], 3) if values else None})
        kinds.setdefault(run["kind"], {"requests_in_rotation": len(run["files"])})[run["mode"] + "_loop"] = entry
    result = dict(meta)
    result["kinds"] = kinds
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2, ensure_ascii=False)
        handle.write("\n")

    print()
    print(f"PostgreSQL {meta.get('postgres', {}).get('version', '')} - {meta.get('dataset', {}).get('experts')} experts, "
          f"{meta.get('dataset', {}).get('cases')} cases - {meta.get('machine', {}).get('nproc')} cores")
    header = (f"{'kind':<16} {'mode':<18} {'req/s':>8} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'n':>7}"
              f" {'other CPU':>9}")
    print(header)
    print("-" * len(header))
    disturbed = []
    for kind, modes in kinds.items():
        for mode in ("closed_loop", "open_loop"):
            entry = modes.get(mode)
            if not entry:
                continue
            label = "closed" if mode == "closed_loop" else f"open @{entry['target_rate_per_s']}/s"
            fmt = lambda v: "-" if v is None else f"{v:.2f}"
            print(f"{kind:<16} {label:<18} {entry['requests_per_s']:>8.1f} {fmt(entry['p50_ms']):>9} "
                  f"{fmt(entry['p99_ms']):>9} {fmt(entry['max_ms']):>9} {entry['requests']:>7}"
                  f" {entry['other_cpu_share'] * 100:>8.0f}%")
            if entry["other_cpu_share"] > 0.1:
                disturbed.append(f"{kind} {label}")
    print("other CPU: the machine's busy CPU during the run beyond PostgreSQL and pgbench, as a share of all cores")
    if disturbed:
        print(f"WARNING: other processes used over 10% of the CPU during: {', '.join(disturbed)}; rerun on a quiet machine")
    print(f"\nwritten {args.out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("scripts")
    p.add_argument("--requests", required=True)
    p.add_argument("--regions", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("check")
    p.add_argument("--manifest", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("summarize")
    p.add_argument("--runs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--meta")
    p.add_argument("--manifest")
    args = parser.parse_args()
    {"scripts": cmd_scripts, "check": cmd_check, "summarize": cmd_summarize}[args.command](args)


if __name__ == "__main__":
    main()
