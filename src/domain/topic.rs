//! The fixed topic taxonomy of the contract: three areas (level 1) and their topics (level 2).
//! Labels, descriptions and synonyms live in `index/topics.toml` (see `vocab`).

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    Governance,
    Participation,
    EGovernment,
    Financing,
    Transparency,
    Migration,
    UrbanDevelopment,
    Mobility,
    FloodRisk,
    ClimateAdaptation,
    DisasterRisk,
    Housing,
    PublicSpace,
    Energy,
    Water,
    Waste,
    EconomicDevelopment,
    BusinessPromotion,
    Employment,
    Tourism,
    InformalEconomy,
}

impl Topic {
    /// Areas first, each followed by its topics, in the order of the contract.
    pub const ALL: [Topic; 21] = [
        Topic::Governance,
        Topic::Participation,
        Topic::EGovernment,
        Topic::Financing,
        Topic::Transparency,
        Topic::Migration,
        Topic::UrbanDevelopment,
        Topic::Mobility,
        Topic::FloodRisk,
        Topic::ClimateAdaptation,
        Topic::DisasterRisk,
        Topic::Housing,
        Topic::PublicSpace,
        Topic::Energy,
        Topic::Water,
        Topic::Waste,
        Topic::EconomicDevelopment,
        Topic::BusinessPromotion,
        Topic::Employment,
        Topic::Tourism,
        Topic::InformalEconomy,
    ];

    pub fn id(&self) -> &'static str {
        match self {
            Topic::Governance => "governance",
            Topic::Participation => "participation",
            Topic::EGovernment => "e-government",
            Topic::Financing => "financing",
            Topic::Transparency => "transparency",
            Topic::Migration => "migration",
            Topic::UrbanDevelopment => "urban-development",
            Topic::Mobility => "mobility",
            Topic::FloodRisk => "flood-risk",
            Topic::ClimateAdaptation => "climate-adaptation",
            Topic::DisasterRisk => "disaster-risk",
            Topic::Housing => "housing",
            Topic::PublicSpace => "public-space",
            Topic::Energy => "energy",
            Topic::Water => "water",
            Topic::Waste => "waste",
            Topic::EconomicDevelopment => "economic-development",
            Topic::BusinessPromotion => "business-promotion",
            Topic::Employment => "employment",
            Topic::Tourism => "tourism",
            Topic::InformalEconomy => "informal-economy",
        }
    }

    pub fn parse(raw: &str) -> Result<Topic, String> {
        let wanted = raw.trim();
        Topic::ALL
            .into_iter()
            .find(|topic| topic.id() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown topic '{}'; see GET /v1/topics for the taxonomy",
                    super::id::truncate_for_message(wanted)
                )
            })
    }

    pub fn is_area(&self) -> bool {
        self.area() == *self
    }

    /// Whether a record tagged with `topics` counts as untagged: no topic, or areas only.
    pub fn none_specific(topics: &[Topic]) -> bool {
        topics.iter().all(Topic::is_area)
    }

    /// The level-1 area a topic belongs to; an area is its own area.
    pub fn area(&self) -> Topic {
        match self {
            Topic::Governance
            | Topic::Participation
            | Topic::EGovernment
            | Topic::Financing
            | Topic::Transparency
            | Topic::Migration => Topic::Governance,
            Topic::UrbanDevelopment
            | Topic::Mobility
            | Topic::FloodRisk
            | Topic::ClimateAdaptation
            | Topic::DisasterRisk
            | Topic::Housing
            | Topic::PublicSpace
            | Topic::Energy
            | Topic::Water
            | Topic::Waste => Topic::UrbanDevelopment,
            Topic::EconomicDevelopment
            | Topic::BusinessPromotion
            | Topic::Employment
            | Topic::Tourism
            | Topic::InformalEconomy => Topic::EconomicDevelopment,
        }
    }

    /// For an area, its topics; for a topic, just itself.
    pub fn covered_topics(&self) -> Vec<Topic> {
        if !self.is_area() {
            return vec![*self];
        }
        Topic::ALL
            .into_iter()
            .filter(|topic| !topic.is_area() && topic.area() == *self)
            .collect()
    }

    /// A small stable number for the search index (position in `ALL`, which lists the
    /// topics in the order they are declared).
    pub fn code(&self) -> u64 {
        *self as u64
    }

    pub fn from_code(code: u64) -> Option<Topic> {
        Topic::ALL.get(usize::try_from(code).ok()?).copied()
    }
}

/// A set of topics as one bit per topic code: what a record is tagged with or shown to be
/// about, read for hundreds of candidates per match without a vector each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TopicSet(u32);

impl TopicSet {
    /// The topics whose codes are the bits of `mask` (bits of no topic are left out).
    pub fn from_mask(mask: u32) -> TopicSet {
        TopicSet(mask & ((1 << Topic::ALL.len()) - 1))
    }

    pub fn contains(&self, topic: &Topic) -> bool {
        self.0 & Self::bit(*topic) != 0
    }

    pub fn insert(&mut self, topic: Topic) {
        self.0 |= Self::bit(topic);
    }

    /// The topics in code order.
    pub fn iter(&self) -> impl Iterator<Item = Topic> + use<> {
        let mut left = self.0;
        std::iter::from_fn(move || {
            while left != 0 {
                let code = left.trailing_zeros();
                left &= left - 1;
                if let Some(topic) = Topic::from_code(u64::from(code)) {
                    return Some(topic);
                }
            }
            None
        })
    }

    fn bit(topic: Topic) -> u32 {
        1 << topic.code()
    }
}

impl FromIterator<Topic> for TopicSet {
    fn from_iter<I: IntoIterator<Item = Topic>>(topics: I) -> TopicSet {
        let mut set = TopicSet::default();
        for topic in topics {
            set.insert(topic);
        }
        set
    }
}

impl<const N: usize> From<[Topic; N]> for TopicSet {
    fn from(topics: [Topic; N]) -> TopicSet {
        topics.into_iter().collect()
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_round_trips_through_its_id_and_code() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.id()), Ok(topic));
            assert_eq!(Topic::from_code(topic.code()), Some(topic));
        }
    }

    #[test]
    fn a_topic_set_holds_what_was_put_in_it_in_code_order() {
        let check = |topics: &[Topic], expected: &[Topic]| {
            let set: TopicSet = topics.iter().copied().collect();
            assert_eq!(set.iter().collect::<Vec<_>>(), expected, "{topics:?}");
            for topic in Topic::ALL {
                assert_eq!(
                    set.contains(&topic),
                    expected.contains(&topic),
                    "{topic:?} in {topics:?}"
                );
            }
        };
        check(&[], &[]);
        check(&[Topic::FloodRisk], &[Topic::FloodRisk]);
        check(
            &[Topic::Tourism, Topic::Governance, Topic::Tourism],
            &[Topic::Governance, Topic::Tourism],
        );
        check(&Topic::ALL, &Topic::ALL);
        // A mask's bits past the last topic are no topic.
        assert_eq!(TopicSet::from_mask(u32::MAX).iter().count(), Topic::ALL.len());
        assert_eq!(TopicSet::from_mask(1 << 8), TopicSet::from([Topic::FloodRisk]));
    }

    #[test]
    fn an_area_covers_its_topics_and_a_topic_only_itself() {
        assert_eq!(Topic::Governance.covered_topics().len(), 5);
        assert_eq!(Topic::UrbanDevelopment.covered_topics().len(), 9);
        assert_eq!(Topic::EconomicDevelopment.covered_topics().len(), 4);
        assert_eq!(Topic::FloodRisk.covered_topics(), vec![Topic::FloodRisk]);
        assert_eq!(Topic::FloodRisk.area(), Topic::UrbanDevelopment);
    }
}
