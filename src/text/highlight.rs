//! Highlights: the best short passage of a text with the words that made it match wrapped
//! in `<mark>`, HTML-escaped everywhere else.

use std::collections::HashSet;

use super::{Analyzers, TextLanguage};

/// What to mark: folded words, stems in the text's language, and extra byte ranges (such as
/// vocabulary phrases found by the topic matcher).
pub struct HighlightTerms<'a> {
    pub folded_words: &'a HashSet<String>,
    pub stems: &'a HashSet<(TextLanguage, String)>,
    pub extra_spans: Vec<(usize, usize)>,
}

/// Longest passage shown, in characters of the original text.
pub const PASSAGE_CHARS: usize = 220;

/// The marked passage, or `None` when nothing in the text matched.
pub fn highlight(
    analyzers: &Analyzers,
    text: &str,
    language: TextLanguage,
    terms: &HighlightTerms<'_>,
) -> Option<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let stemmed = analyzers.stemmed(language, text);
    for token in analyzers.folded(text) {
        let stem_matches = stemmed
            .iter()
            .find(|candidate| candidate.start == token.start)
            .is_some_and(|candidate| terms.stems.contains(&(language, candidate.term.clone())));
        if terms.folded_words.contains(&token.term) || stem_matches {
            spans.push((token.start, token.end));
        }
    }
    spans.extend(terms.extra_spans.iter().copied());
    if spans.is_empty() {
        return None;
    }
    spans.sort();
    let merged = merge_overlapping(spans);
    let (window_start, window_end) = best_window(text, &merged);
    let mut passage = String::new();
    if window_start > 0 {
        passage.push('…');
    }
    let mut cursor = window_start;
    for (start, end) in merged
        .iter()
        .copied()
        .filter(|(start, end)| *start >= window_start && *end <= window_end)
    {
        passage.push_str(&escape(&text[cursor..start]));
        passage.push_str("<mark>");
        passage.push_str(&escape(&text[start..end]));
        passage.push_str("</mark>");
        cursor = end;
    }
    passage.push_str(&escape(&text[cursor..window_end]));
    if window_end < text.len() {
        passage.push('…');
    }
    Some(passage)
}

fn merge_overlapping(spans: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (start, end) in spans {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The window of at most `PASSAGE_CHARS` characters holding the most marks, widened to
/// word boundaries.
fn best_window(text: &str, spans: &[(usize, usize)]) -> (usize, usize) {
    if text.chars().count() <= PASSAGE_CHARS {
        return (0, text.len());
    }
    let byte_budget = text
        .char_indices()
        .nth(PASSAGE_CHARS)
        .map_or(text.len(), |(index, _)| index);
    let mut best = (0usize, 0usize);
    for (first, (start, _)) in spans.iter().enumerate() {
        let covered = spans[first..]
            .iter()
            .take_while(|(_, end)| end - start <= byte_budget)
            .count();
        if covered > best.1 {
            best = (first, covered);
        }
    }
    let anchor = spans[best.0].0;
    // Start a little before the first mark, on a word boundary.
    let lead = byte_budget / 6;
    let mut start = anchor.saturating_sub(lead);
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    if let Some(space) = text[..start].rfind(char::is_whitespace).filter(|_| start > 0) {
        start = (space + 1).min(anchor);
    }
    let mut end = (start + byte_budget).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    if end < text.len() {
        if let Some(space) = text[start..end].rfind(char::is_whitespace) {
            let candidate = start + space;
            if candidate > spans[best.0].1 {
                end = candidate;
            }
        }
    }
    (start, end)
}

pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '&' => escaped.push_str("&amp;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_words_are_marked_and_the_rest_escaped() {
        let analyzers = Analyzers::new();
        let words: HashSet<String> = ["flood".to_string()].into();
        let stems = HashSet::new();
        let terms = HighlightTerms {
            folded_words: &words,
            stems: &stems,
            extra_spans: Vec::new(),
        };
        let marked = highlight(&analyzers, "Flood <early> warning", TextLanguage::English, &terms);
        assert_eq!(marked.as_deref(), Some("<mark>Flood</mark> &lt;early&gt; warning"));
    }

    #[test]
    fn stems_match_inflected_forms_and_long_texts_are_cut_around_the_marks() {
        let analyzers = Analyzers::new();
        let words = HashSet::new();
        let stems: HashSet<(TextLanguage, String)> = [(TextLanguage::French, "inond".to_string())].into();
        let terms = HighlightTerms {
            folded_words: &words,
            stems: &stems,
            extra_spans: Vec::new(),
        };
        let text = format!(
            "{} Les inondations touchent la ville. {}",
            "Début. ".repeat(60),
            "Fin. ".repeat(60)
        );
        let marked = highlight(&analyzers, &text, TextLanguage::French, &terms).expect("marked");
        assert!(marked.contains("<mark>inondations</mark>"), "{marked}");
        assert!(marked.starts_with('…') && marked.ends_with('…'), "{marked}");
        assert!(marked.chars().count() < PASSAGE_CHARS + 40);
    }
}
