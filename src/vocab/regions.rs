//! UN M49 regions: region / subregion / intermediate region per country, region slugs, and
//! the extra groups of `index/regions.toml` (such as `mena`).

use std::collections::HashMap;

use keshvar::{Alpha2, SubRegion};
use serde::Deserialize;

use super::VocabError;
use crate::domain::CountryCode;

/// The level of a region in the M49 hierarchy; groups sit beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionLevel {
    Region,
    Subregion,
    Intermediate,
    Group,
}

impl RegionLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            RegionLevel::Region => "region",
            RegionLevel::Subregion => "subregion",
            RegionLevel::Intermediate => "intermediate_region",
            RegionLevel::Group => "group",
        }
    }
}

/// One region, subregion, intermediate region or group.
#[derive(Clone, Debug)]
pub struct RegionNode {
    pub slug: String,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<String>,
    /// A small stable number for the search index.
    pub code: u64,
}

/// The M49 names of one country.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionPath {
    pub region: Option<&'static str>,
    pub subregion: Option<&'static str>,
    pub intermediate_region: Option<&'static str>,
}

/// All regions and the countries in them.
#[derive(Debug)]
pub struct Regions {
    nodes: Vec<RegionNode>,
    /// (language, slug) → name, from `[names.<language>]`.
    localized: HashMap<(String, String), String>,
    /// (name, region code) for every name and alias a request may use.
    place_names: Vec<(String, u64)>,
    by_slug: HashMap<String, usize>,
    paths: HashMap<CountryCode, RegionPath>,
    /// For each country, the codes of every region it belongs to (all levels and groups).
    memberships: HashMap<CountryCode, Vec<u64>>,
}

/// (slug, name, level, parent) of every M49 area used by countries.
const M49_NODES: &[(&str, &str, RegionLevel, Option<&str>)] = &[
    ("africa", "Africa", RegionLevel::Region, None),
    (
        "northern-africa",
        "Northern Africa",
        RegionLevel::Subregion,
        Some("africa"),
    ),
    (
        "sub-saharan-africa",
        "Sub-Saharan Africa",
        RegionLevel::Subregion,
        Some("africa"),
    ),
    (
        "eastern-africa",
        "Eastern Africa",
        RegionLevel::Intermediate,
        Some("sub-saharan-africa"),
    ),
    (
        "middle-africa",
        "Middle Africa",
        RegionLevel::Intermediate,
        Some("sub-saharan-africa"),
    ),
    (
        "southern-africa",
        "Southern Africa",
        RegionLevel::Intermediate,
        Some("sub-saharan-africa"),
    ),
    (
        "western-africa",
        "Western Africa",
        RegionLevel::Intermediate,
        Some("sub-saharan-africa"),
    ),
    ("americas", "Americas", RegionLevel::Region, None),
    (
        "latin-america-and-the-caribbean",
        "Latin America and the Caribbean",
        RegionLevel::Subregion,
        Some("americas"),
    ),
    (
        "caribbean",
        "Caribbean",
        RegionLevel::Intermediate,
        Some("latin-america-and-the-caribbean"),
    ),
    (
        "central-america",
        "Central America",
        RegionLevel::Intermediate,
        Some("latin-america-and-the-caribbean"),
    ),
    (
        "south-america",
        "South America",
        RegionLevel::Intermediate,
        Some("latin-america-and-the-caribbean"),
    ),
    (
        "northern-america",
        "Northern America",
        RegionLevel::Subregion,
        Some("americas"),
    ),
    ("asia", "Asia", RegionLevel::Region, None),
    ("central-asia", "Central Asia", RegionLevel::Subregion, Some("asia")),
    ("eastern-asia", "Eastern Asia", RegionLevel::Subregion, Some("asia")),
    (
        "south-eastern-asia",
        "South-eastern Asia",
        RegionLevel::Subregion,
        Some("asia"),
    ),
    ("southern-asia", "Southern Asia", RegionLevel::Subregion, Some("asia")),
    ("western-asia", "Western Asia", RegionLevel::Subregion, Some("asia")),
    ("europe", "Europe", RegionLevel::Region, None),
    (
        "eastern-europe",
        "Eastern Europe",
        RegionLevel::Subregion,
        Some("europe"),
    ),
    (
        "northern-europe",
        "Northern Europe",
        RegionLevel::Subregion,
        Some("europe"),
    ),
    (
        "southern-europe",
        "Southern Europe",
        RegionLevel::Subregion,
        Some("europe"),
    ),
    (
        "western-europe",
        "Western Europe",
        RegionLevel::Subregion,
        Some("europe"),
    ),
    ("oceania", "Oceania", RegionLevel::Region, None),
    (
        "australia-and-new-zealand",
        "Australia and New Zealand",
        RegionLevel::Subregion,
        Some("oceania"),
    ),
    ("melanesia", "Melanesia", RegionLevel::Subregion, Some("oceania")),
    ("micronesia", "Micronesia", RegionLevel::Subregion, Some("oceania")),
    ("polynesia", "Polynesia", RegionLevel::Subregion, Some("oceania")),
];

/// The M49 slug of the lowest level that a keshvar subregion stands for.
fn lowest_m49_slug(subregion: SubRegion) -> &'static str {
    match subregion {
        SubRegion::AustraliaAndNewZealand => "australia-and-new-zealand",
        SubRegion::Caribbean => "caribbean",
        SubRegion::CentralAmerica => "central-america",
        SubRegion::CentralAsia => "central-asia",
        SubRegion::EasternAfrica => "eastern-africa",
        SubRegion::EasternAsia => "eastern-asia",
        SubRegion::EasternEurope => "eastern-europe",
        SubRegion::Melanesia => "melanesia",
        SubRegion::Micronesia => "micronesia",
        SubRegion::MiddleAfrica => "middle-africa",
        SubRegion::NorthernAfrica => "northern-africa",
        SubRegion::NorthernAmerica => "northern-america",
        SubRegion::NorthernEurope => "northern-europe",
        SubRegion::Polynesia => "polynesia",
        SubRegion::SouthAmerica => "south-america",
        SubRegion::SouthEasternAsia => "south-eastern-asia",
        SubRegion::SouthernAfrica => "southern-africa",
        SubRegion::SouthernAsia => "southern-asia",
        SubRegion::SouthernEurope => "southern-europe",
        SubRegion::WesternAfrica => "western-africa",
        SubRegion::WesternAsia => "western-asia",
        SubRegion::WesternEurope => "western-europe",
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionsFile {
    #[serde(default)]
    overrides: HashMap<String, String>,
    #[serde(default)]
    group: Vec<GroupEntry>,
    /// Region names by language, then by slug.
    #[serde(default)]
    names: HashMap<String, HashMap<String, String>>,
    /// Other names of regions, any language, by slug.
    #[serde(default)]
    aliases: HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupEntry {
    slug: String,
    name: String,
    #[serde(default)]
    include_regions: Vec<String>,
    #[serde(default)]
    exclude_countries: Vec<String>,
    #[serde(default)]
    include_countries: Vec<String>,
}

impl Regions {
    /// Builds the table from keshvar and the text of `index/regions.toml`.
    pub fn load(file_name: &str, toml_text: &str) -> Result<Regions, VocabError> {
        let file: RegionsFile =
            toml::from_str(toml_text).map_err(|error| VocabError::from_toml(file_name, toml_text, &error))?;
        let invalid = |message: String| VocabError::invalid(file_name, None, message);

        let mut nodes: Vec<RegionNode> = M49_NODES
            .iter()
            .map(|(slug, name, level, parent)| RegionNode {
                slug: (*slug).to_string(),
                name: (*name).to_string(),
                level: *level,
                parent: parent.map(str::to_string),
                code: 0,
            })
            .collect();
        let static_node = |slug: &str| M49_NODES.iter().find(|node| node.0 == slug);

        let mut paths = HashMap::new();
        for country in CountryCode::all() {
            let keshvar_slug = Alpha2::try_from(country.as_str())
                .ok()
                .and_then(|alpha2| alpha2.to_country().maybe_subregion())
                .map(lowest_m49_slug);
            let lowest = match file.overrides.get(country.as_str()) {
                Some(slug) => Some(slug.as_str()),
                None => keshvar_slug,
            };
            let Some(lowest) = lowest else {
                paths.insert(country, RegionPath::default());
                continue;
            };
            let Some(lowest_node) = static_node(lowest) else {
                return Err(invalid(format!("override for {country}: unknown M49 slug '{lowest}'")));
            };
            let mut path = RegionPath::default();
            let mut current = Some(lowest_node);
            while let Some((slug, name, level, parent)) = current {
                let _ = slug;
                match level {
                    RegionLevel::Region => path.region = Some(name),
                    RegionLevel::Subregion => path.subregion = Some(name),
                    RegionLevel::Intermediate => path.intermediate_region = Some(name),
                    RegionLevel::Group => {}
                }
                current = parent.and_then(static_node);
            }
            paths.insert(country, path);
        }
        for country in file.overrides.keys() {
            if CountryCode::parse(country).is_err() {
                return Err(invalid(format!("override for unknown country '{country}'")));
            }
        }

        for group in &file.group {
            if nodes.iter().any(|node| node.slug == group.slug) {
                return Err(invalid(format!("group '{}' repeats an existing slug", group.slug)));
            }
            nodes.push(RegionNode {
                slug: group.slug.clone(),
                name: group.name.clone(),
                level: RegionLevel::Group,
                parent: None,
                code: 0,
            });
        }
        for (code, node) in nodes.iter_mut().enumerate() {
            node.code = code as u64;
        }
        let by_slug: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(position, node)| (node.slug.clone(), position))
            .collect();

        let mut localized = HashMap::new();
        let mut place_names: Vec<(String, u64)> = nodes.iter().map(|node| (node.name.clone(), node.code)).collect();
        for (language, names) in &file.names {
            for (slug, name) in names {
                let Some(&position) = by_slug.get(slug) else {
                    return Err(invalid(format!("names.{language}: unknown region '{slug}'")));
                };
                localized.insert((language.clone(), slug.clone()), name.clone());
                place_names.push((name.clone(), position as u64));
            }
        }
        for (slug, aliases) in &file.aliases {
            let Some(&position) = by_slug.get(slug) else {
                return Err(invalid(format!("aliases: unknown region '{slug}'")));
            };
            place_names.extend(aliases.iter().map(|alias| (alias.clone(), position as u64)));
        }
        let mut regions = Regions {
            nodes,
            localized,
            place_names,
            by_slug,
            paths,
            memberships: HashMap::new(),
        };
        let mut memberships: HashMap<CountryCode, Vec<u64>> = HashMap::new();
        for country in CountryCode::all() {
            let path = regions.path(country);
            let codes: Vec<u64> = [path.region, path.subregion, path.intermediate_region]
                .into_iter()
                .flatten()
                .filter_map(|name| {
                    regions
                        .nodes
                        .iter()
                        .find(|node| node.name == name && node.level != RegionLevel::Group)
                })
                .map(|node| node.code)
                .collect();
            memberships.insert(country, codes);
        }
        for group in &file.group {
            let group_code = regions
                .by_slug
                .get(&group.slug)
                .map(|&position| position as u64)
                .unwrap_or_default();
            let mut included_region_codes = Vec::new();
            for slug in &group.include_regions {
                let Some(&position) = regions.by_slug.get(slug) else {
                    return Err(invalid(format!("group '{}': unknown region '{slug}'", group.slug)));
                };
                included_region_codes.push(position as u64);
            }
            let mut excluded = Vec::new();
            for raw in &group.exclude_countries {
                excluded.push(
                    CountryCode::parse(raw).map_err(|message| invalid(format!("group '{}': {message}", group.slug)))?,
                );
            }
            let mut included = Vec::new();
            for raw in &group.include_countries {
                included.push(
                    CountryCode::parse(raw).map_err(|message| invalid(format!("group '{}': {message}", group.slug)))?,
                );
            }
            for (country, codes) in memberships.iter_mut() {
                let in_region = codes.iter().any(|code| included_region_codes.contains(code));
                let member = (in_region && !excluded.contains(country)) || included.contains(country);
                if member {
                    codes.push(group_code);
                }
            }
        }
        regions.memberships = memberships;
        Ok(regions)
    }

    pub fn path(&self, country: CountryCode) -> RegionPath {
        self.paths.get(&country).cloned().unwrap_or_default()
    }

    /// Every region code (all levels and groups) that a country belongs to.
    pub fn membership_codes(&self, country: CountryCode) -> &[u64] {
        self.memberships.get(&country).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn by_slug(&self, slug: &str) -> Option<&RegionNode> {
        self.by_slug.get(slug.trim()).map(|&position| &self.nodes[position])
    }

    pub fn by_code(&self, code: u64) -> Option<&RegionNode> {
        self.nodes.get(usize::try_from(code).ok()?)
    }

    /// Parses a region filter value: any M49 slug or group slug.
    pub fn parse_slug(&self, raw: &str) -> Result<&RegionNode, String> {
        self.by_slug(&raw.trim().to_ascii_lowercase()).ok_or_else(|| {
            format!(
                "unknown region '{}'; see GET /v1/regions for the slugs",
                crate::domain::id::truncate_for_message(raw.trim())
            )
        })
    }

    /// The name of a region in a language of `[names.*]`, if there is one.
    pub fn localized_name(&self, slug: &str, language: &str) -> Option<&str> {
        self.localized
            .get(&(language.to_string(), slug.to_string()))
            .map(String::as_str)
    }

    /// Every name and alias of every region, with the region's code.
    pub fn place_names(&self) -> &[(String, u64)] {
        &self.place_names
    }

    pub fn nodes(&self) -> &[RegionNode] {
        &self.nodes
    }

    /// Countries that belong to the region with this code.
    pub fn countries_in(&self, code: u64) -> Vec<CountryCode> {
        let mut countries: Vec<CountryCode> = self
            .memberships
            .iter()
            .filter(|(_, codes)| codes.contains(&code))
            .map(|(country, _)| *country)
            .collect();
        countries.sort();
        countries
    }

    /// The code of the lowest M49 level of a country (intermediate, else subregion).
    pub fn lowest_level_code(&self, country: CountryCode) -> Option<u64> {
        let path = self.path(country);
        let name = path.intermediate_region.or(path.subregion)?;
        self.nodes.iter().find(|node| node.name == name).map(|node| node.code)
    }

    /// The code of a country's M49 subregion (e.g. Sub-Saharan Africa, South-eastern Asia).
    pub fn subregion_code(&self, country: CountryCode) -> Option<u64> {
        let name = self.path(country).subregion?;
        self.nodes.iter().find(|node| node.name == name).map(|node| node.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Regions {
        Regions::load("regions.toml", include_str!("../../index/regions.toml")).expect("regions load")
    }

    fn code(regions: &Regions, slug: &str) -> u64 {
        regions.by_slug(slug).map(|node| node.code).expect(slug)
    }

    fn country(raw: &str) -> CountryCode {
        CountryCode::parse(raw).expect("country")
    }

    #[test]
    fn contract_examples_follow_m49() {
        let regions = regions();
        let kenya = regions.path(country("KE"));
        assert_eq!(kenya.region, Some("Africa"));
        assert_eq!(kenya.subregion, Some("Sub-Saharan Africa"));
        assert_eq!(kenya.intermediate_region, Some("Eastern Africa"));
        let brazil = regions.path(country("BR"));
        assert_eq!(brazil.subregion, Some("Latin America and the Caribbean"));
        assert_eq!(brazil.intermediate_region, Some("South America"));
        let vietnam = regions.path(country("VN"));
        assert_eq!(
            (vietnam.region, vietnam.subregion, vietnam.intermediate_region),
            (Some("Asia"), Some("South-eastern Asia"), None)
        );
        let germany = regions.path(country("DE"));
        assert_eq!(
            (germany.region, germany.subregion),
            (Some("Europe"), Some("Western Europe"))
        );
        assert_eq!(regions.path(country("SS")).intermediate_region, Some("Eastern Africa"));
    }

    #[test]
    fn a_filter_on_a_level_covers_every_country_below_it() {
        let regions = regions();
        assert!(
            regions
                .membership_codes(country("KE"))
                .contains(&code(&regions, "africa"))
        );
        assert!(
            regions
                .membership_codes(country("KE"))
                .contains(&code(&regions, "sub-saharan-africa"))
        );
        assert!(
            regions
                .membership_codes(country("BR"))
                .contains(&code(&regions, "latin-america-and-the-caribbean"))
        );
        assert!(
            !regions
                .membership_codes(country("DE"))
                .contains(&code(&regions, "africa"))
        );
    }

    #[test]
    fn mena_is_northern_africa_and_western_asia_without_caucasus_and_cyprus_plus_iran() {
        let regions = regions();
        let mena = code(&regions, "mena");
        for member in ["MA", "EG", "TN", "JO", "LB", "IQ", "TR", "IR", "PS"] {
            assert!(regions.membership_codes(country(member)).contains(&mena), "{member}");
        }
        for outsider in ["AM", "AZ", "GE", "CY", "KE", "DE", "PK"] {
            assert!(
                !regions.membership_codes(country(outsider)).contains(&mena),
                "{outsider}"
            );
        }
    }
}
