//! Highlights: the best short passage of a text with the words that made it match wrapped
//! in `<mark>`, HTML-escaped everywhere else.

use std::collections::HashSet;

use super::{Analyzers, TextLanguage, Token};

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
    let folded = analyzers.folded(text);
    let stemmed = analyzers.stemmed(language, text);
    highlight_tokens(text, &folded, &stemmed, language, terms)
}

/// Like `highlight`, with the text's folded and stemmed tokens already computed.
pub fn highlight_tokens(
    text: &str,
    folded: &[Token],
    stemmed: &[Token],
    language: TextLanguage,
    terms: &HighlightTerms<'_>,
) -> Option<String> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // Both token lists are in text order: walk them together.
    let mut next_stem = 0;
    for token in folded {
        while next_stem < stemmed.len() && stemmed[next_stem].start < token.start {
            next_stem += 1;
        }
        let stem_matches = stemmed.get(next_stem).is_some_and(|candidate| {
            candidate.start == token.start && terms.stems.contains(&(language, candidate.term.clone()))
        });
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

/// The window of at most `PASSAGE_CHARS` characters holding the most marks, moved to word
/// boundaries; returned as byte offsets.
fn best_window(text: &str, spans: &[(usize, usize)]) -> (usize, usize) {
    let total_chars = text.chars().count();
    if total_chars <= PASSAGE_CHARS {
        return (0, text.len());
    }
    // Byte offset of every character, plus the end of the text.
    let boundaries: Vec<usize> = text
        .char_indices()
        .map(|(index, _)| index)
        .chain([text.len()])
        .collect();
    let char_at = |byte: usize| boundaries.partition_point(|boundary| *boundary < byte);
    let char_spans: Vec<(usize, usize)> = spans
        .iter()
        .map(|(start, end)| (char_at(*start), char_at(*end)))
        .collect();
    let mut best = (0usize, 0usize);
    for (first, (start, _)) in char_spans.iter().enumerate() {
        let covered = char_spans[first..]
            .iter()
            .take_while(|(_, end)| end - start <= PASSAGE_CHARS)
            .count();
        if covered > best.1 {
            best = (first, covered);
        }
    }
    let (anchor_start, anchor_end) = char_spans[best.0];
    let is_space = |position: usize| text[boundaries[position]..].starts_with(char::is_whitespace);
    // Start a little before the first mark, just after a space.
    let mut start = anchor_start.saturating_sub(PASSAGE_CHARS / 6);
    while start > 0 && start < anchor_start && !is_space(start - 1) {
        start += 1;
    }
    let mut end = (start + PASSAGE_CHARS).min(total_chars);
    if end < total_chars {
        let mut cut = end;
        while cut > anchor_end && !is_space(cut) {
            cut -= 1;
        }
        if cut > anchor_end {
            end = cut;
        }
    }
    (boundaries[start], boundaries[end])
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

/// A highlighted snippet for a terminal: marks become brackets and escaped characters are
/// written as themselves (the snippet was escaped for HTML by `escape`).
pub fn for_terminal(snippet: &str) -> String {
    snippet
        .replace("<mark>", "[")
        .replace("</mark>", "]")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_read_as_plain_text_in_a_terminal() {
        let check = |snippet: &str, expected: &str| assert_eq!(for_terminal(snippet), expected, "{snippet}");
        check(
            "la taxe d&#39;<mark>assainissement</mark>",
            "la taxe d'[assainissement]",
        );
        check("&lt;b&gt; &amp;lt; &quot;x&quot;", "<b> &lt; \"x\"");
        check("plain", "plain");
        check(&escape("a < b & 'c'"), "a < b & 'c'");
    }

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
