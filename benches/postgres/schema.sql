-- The schema a competent team would build for citypeers' data on plain PostgreSQL:
-- full-text search with per-row language configurations and unaccent, GIN indexes on the
-- tsvector and on the facet arrays, pg_trgm for typo tolerance.
--
-- Run by run.sh with psql -v ON_ERROR_STOP=1; the data is loaded by load.sql afterwards.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One text search configuration per supported profile language, each running unaccent
-- before the Snowball stemmer (the set-up the unaccent documentation recommends), plus a
-- 'simple' one (no stemming, no stop words) for the other languages, names and places.
-- citypeers folds accents and stems with Snowball too, so both sides normalise alike.
CREATE TEXT SEARCH CONFIGURATION cp_english (COPY = english);
ALTER TEXT SEARCH CONFIGURATION cp_english ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
CREATE TEXT SEARCH CONFIGURATION cp_german (COPY = german);
ALTER TEXT SEARCH CONFIGURATION cp_german ALTER MAPPING FOR hword, hword_part, word WITH unaccent, german_stem;
CREATE TEXT SEARCH CONFIGURATION cp_french (COPY = french);
ALTER TEXT SEARCH CONFIGURATION cp_french ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
CREATE TEXT SEARCH CONFIGURATION cp_spanish (COPY = spanish);
ALTER TEXT SEARCH CONFIGURATION cp_spanish ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
CREATE TEXT SEARCH CONFIGURATION cp_portuguese (COPY = portuguese);
ALTER TEXT SEARCH CONFIGURATION cp_portuguese ALTER MAPPING FOR hword, hword_part, word WITH unaccent, portuguese_stem;
CREATE TEXT SEARCH CONFIGURATION cp_simple (COPY = simple);
ALTER TEXT SEARCH CONFIGURATION cp_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;

-- The configuration for a profile's working language (its first language), 'simple'
-- otherwise. A function rather than a regconfig column: reg* columns block pg_upgrade.
CREATE FUNCTION cp_config(lang text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE lang
    WHEN 'en' THEN 'cp_english'::regconfig
    WHEN 'de' THEN 'cp_german'::regconfig
    WHEN 'fr' THEN 'cp_french'::regconfig
    WHEN 'es' THEN 'cp_spanish'::regconfig
    WHEN 'pt' THEN 'cp_portuguese'::regconfig
    ELSE 'cp_simple'::regconfig
  END
$$;

-- unaccent() is only STABLE (it looks its dictionary up through search_path); the usual
-- immutable wrapper names the dictionary so it can be used in stored columns and indexes.
CREATE FUNCTION cp_fold(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT lower(public.unaccent('public.unaccent'::regdictionary, t))
$$;

-- The taxonomy's level-2 topics and their areas (index/topics.toml). A profile tagged with a
-- topic also matches its area, as in citypeers.
CREATE TABLE topic_area (topic text PRIMARY KEY, area text NOT NULL);
INSERT INTO topic_area VALUES
  ('participation', 'governance'), ('e-government', 'governance'), ('financing', 'governance'),
  ('transparency', 'governance'), ('migration', 'governance'),
  ('mobility', 'urban-development'), ('flood-risk', 'urban-development'),
  ('climate-adaptation', 'urban-development'), ('disaster-risk', 'urban-development'),
  ('housing', 'urban-development'), ('public-space', 'urban-development'),
  ('energy', 'urban-development'), ('water', 'urban-development'), ('waste', 'urban-development'),
  ('business-promotion', 'economic-development'), ('employment', 'economic-development'),
  ('tourism', 'economic-development'), ('informal-economy', 'economic-development');

-- UN M49 regions (every level) and the mena group, as GET /v1/regions lists them
-- (regions.json next to this file).
CREATE TABLE region (
  slug text PRIMARY KEY,
  name text NOT NULL,
  level text NOT NULL,
  parent text,
  countries text[] NOT NULL
);

CREATE TABLE experts (
  id text PRIMARY KEY,
  name text NOT NULL,
  position text NOT NULL DEFAULT '',
  organisation text NOT NULL DEFAULT '',
  city text NOT NULL,
  country text NOT NULL,
  languages text[] NOT NULL,
  tagged_topics text[] NOT NULL,       -- as entered
  topics text[] NOT NULL,              -- tagged topics plus their areas (facet and filter)
  regions text[] NOT NULL,             -- every M49 level of the country, plus mena
  expertise text NOT NULL DEFAULT '',
  bio text NOT NULL DEFAULT '',
  available boolean NOT NULL,
  email text,
  phone text,
  status text NOT NULL,
  updated_at timestamptz NOT NULL,
  city_key text NOT NULL,              -- folded city name, for "not from the requester's city"
  name_key text NOT NULL,              -- folded name, for trigram name search
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(cp_config(languages[1]), expertise), 'A') ||
    setweight(to_tsvector(cp_config(languages[1]), position || ' ' || organisation), 'B') ||
    setweight(to_tsvector(cp_config(languages[1]), bio), 'C') ||
    setweight(to_tsvector('cp_simple'::regconfig, name || ' ' || city), 'D')
  ) STORED
);

CREATE TABLE cases (
  id text PRIMARY KEY,
  title text NOT NULL,
  summary text NOT NULL DEFAULT '',
  city text NOT NULL,
  country text NOT NULL,
  language text NOT NULL,
  tagged_topics text[] NOT NULL,
  topics text[] NOT NULL,
  regions text[] NOT NULL,
  year int,
  experts text[] NOT NULL,             -- linked experts (ids)
  url text,
  status text NOT NULL,
  updated_at timestamptz NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector(cp_config(language), title), 'A') ||
    setweight(to_tsvector(cp_config(language), summary), 'B') ||
    setweight(to_tsvector('cp_simple'::regconfig, city), 'D')
  ) STORED
);

-- Words of the profiles (folded, unstemmed) with their document frequency: the dictionary
-- that typo correction looks the query words up in (pg_trgm's documented recipe).
CREATE TABLE lexicon (word text PRIMARY KEY, ndoc int NOT NULL);
