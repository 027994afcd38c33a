-- Loads the JSON Lines that run.sh copied into raw_experts / raw_cases (one jsonb document
-- a row, n = line number) into the typed tables, then builds the indexes. Run by run.sh
-- with psql -v ON_ERROR_STOP=1 -v regions_json="$(cat regions.json)" after schema.sql.

INSERT INTO region (slug, name, level, parent, countries)
SELECT r->>'slug', r->>'name', r->>'level', r->>'parent',
       ARRAY(SELECT jsonb_array_elements_text(r->'countries'))
FROM jsonb_array_elements((:'regions_json')::jsonb -> 'regions') AS r;

-- Country -> every region it belongs to (all M49 levels and mena).
CREATE TEMP TABLE country_regions AS
SELECT c AS country, array_agg(r.slug ORDER BY r.slug) AS regions
FROM region r, unnest(r.countries) AS c
GROUP BY c;
CREATE UNIQUE INDEX ON country_regions (country);

-- Tagged topics -> tagged topics plus their areas.
CREATE FUNCTION pg_temp.expand_topics(tagged text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}')
  FROM (SELECT unnest(tagged) AS t
        UNION SELECT ta.area FROM topic_area ta WHERE ta.topic = ANY (tagged)) s
$$;

CREATE FUNCTION pg_temp.text_array(j jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(array_agg(x), '{}') FROM jsonb_array_elements_text(coalesce(j, '[]')) AS x
$$;

-- updated_at: the generator writes no timestamps; the newest record is the last line, as if
-- the file had been imported in order.
INSERT INTO experts (id, name, position, organisation, city, country, languages, tagged_topics,
                     topics, regions, expertise, bio, available, email, phone, status,
                     updated_at, city_key, name_key)
SELECT d->>'id', d->>'name', coalesce(d->>'position', ''), coalesce(d->>'organisation', ''),
       d->>'city', upper(d->>'country'), pg_temp.text_array(d->'languages'),
       pg_temp.text_array(d->'topics'), pg_temp.expand_topics(pg_temp.text_array(d->'topics')),
       coalesce(cr.regions, '{}'), coalesce(d->>'expertise', ''), coalesce(d->>'bio', ''),
       coalesce((d->>'available')::boolean, true), d->>'email', d->>'phone',
       coalesce(d->>'status', 'published'),
       timestamptz '2026-01-01 00:00:00+00' + r.n * interval '1 second',
       cp_fold(d->>'city'), cp_fold(d->>'name')
FROM raw_experts r
CROSS JOIN LATERAL (SELECT r.doc AS d) x
LEFT JOIN country_regions cr ON cr.country = upper(d->>'country');

INSERT INTO cases (id, title, summary, city, country, language, tagged_topics, topics, regions,
                   year, experts, url, status, updated_at)
SELECT d->>'id', d->>'title', coalesce(d->>'summary', ''), d->>'city', upper(d->>'country'),
       coalesce(d->>'language', 'en'), pg_temp.text_array(d->'topics'),
       pg_temp.expand_topics(pg_temp.text_array(d->'topics')), coalesce(cr.regions, '{}'),
       (d->>'year')::int, pg_temp.text_array(d->'experts'), d->>'url',
       coalesce(d->>'status', 'published'),
       timestamptz '2026-01-01 00:00:00+00' + r.n * interval '1 second'
FROM raw_cases r
CROSS JOIN LATERAL (SELECT r.doc AS d) x
LEFT JOIN country_regions cr ON cr.country = upper(d->>'country');

DROP TABLE raw_experts, raw_cases;

-- Typo dictionary: every folded word of the published profiles, with its document frequency.
INSERT INTO lexicon (word, ndoc)
SELECT word, ndoc
FROM ts_stat($$SELECT to_tsvector('cp_simple', name || ' ' || position || ' ' || organisation
                                   || ' ' || city || ' ' || expertise || ' ' || bio)
               FROM experts WHERE status = 'published'$$)
WHERE length(word) BETWEEN 3 AND 40 AND word !~ '[0-9]';

-- Indexes: GIN for full text, facet arrays and trigrams; btree for the scalar filters and the
-- "newest first" order of a search without q.
CREATE INDEX experts_tsv ON experts USING gin (tsv);
CREATE INDEX experts_topics ON experts USING gin (topics);
CREATE INDEX experts_regions ON experts USING gin (regions);
CREATE INDEX experts_languages ON experts USING gin (languages);
CREATE INDEX experts_name_trgm ON experts USING gin (name_key gin_trgm_ops);
CREATE INDEX experts_country ON experts (country);
CREATE INDEX experts_status_available ON experts (status, available);
CREATE INDEX experts_published_newest ON experts (updated_at DESC) WHERE status = 'published';
-- Covering index for facet counts without q: an index-only scan reads ~20 MB instead of the
-- ~200 MB heap (profile texts and tsvector) when a facet must count every published profile.
CREATE INDEX experts_facets ON experts (status) INCLUDE (available, country, topics, regions, languages);

CREATE INDEX cases_tsv ON cases USING gin (tsv);
CREATE INDEX cases_topics ON cases USING gin (topics);
CREATE INDEX cases_regions ON cases USING gin (regions);
CREATE INDEX cases_experts ON cases USING gin (experts);
CREATE INDEX cases_country ON cases (country);
CREATE INDEX cases_status ON cases (status);

CREATE INDEX lexicon_trgm ON lexicon USING gin (word gin_trgm_ops);

VACUUM (ANALYZE) experts;
VACUUM (ANALYZE) cases;
VACUUM (ANALYZE) lexicon;
VACUUM (ANALYZE) region;
VACUUM (ANALYZE) topic_area;
