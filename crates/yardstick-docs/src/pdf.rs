//! The Markdown a document template writes, typeset as an A4 PDF with the
//! standard Helvetica fonts (WinAnsi encoding, nothing embedded): headings,
//! paragraphs, bullet lists with continuation lines, quotes; `**` and
//! backticks are dropped; a `<!-- chart v1,v2,… | target -->` comment
//! (invisible in Markdown) is drawn as a line chart with its target line.
//! Lines wrap by the fonts' published widths; each page carries the title
//! and its number.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 56.0;
const BODY: f32 = 10.0;

#[derive(Clone, Copy, PartialEq)]
enum Font {
    Regular,
    Bold,
    Oblique,
}

impl Font {
    fn name(self) -> Name<'static> {
        match self {
            Font::Regular => Name(b"F1"),
            Font::Bold => Name(b"F2"),
            Font::Oblique => Name(b"F3"),
        }
    }
}

/// One block of the Markdown subset the templates write.
enum Block {
    Heading(u8, String),
    Paragraph(String),
    Bullet(String),
    Quote(String),
    /// A series (gaps as `None`) and its target line.
    Chart(crate::chart::ChartSpec),
}

fn inline(s: &str) -> String {
    s.replace("**", "").replace('`', "")
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    let mut open = false;
    for line in md.lines() {
        let t = line.trim_end();
        if t.trim().is_empty() {
            open = false;
            continue;
        }
        if let Some(spec) = t
            .trim()
            .strip_prefix("<!-- chart ")
            .and_then(|r| r.strip_suffix("-->"))
        {
            out.push(Block::Chart(crate::chart::ChartSpec::parse(spec)));
            open = false;
            continue;
        }
        let heading = t.chars().take_while(|c| *c == '#').count();
        if (1..=3).contains(&heading) && t[heading..].starts_with(' ') {
            out.push(Block::Heading(heading as u8, inline(t[heading..].trim())));
            open = false;
        } else if let Some(rest) = t.strip_prefix("- ") {
            out.push(Block::Bullet(inline(rest)));
            open = true;
        } else if let Some(rest) = t.strip_prefix("> ") {
            out.push(Block::Quote(inline(rest)));
            open = false;
        } else if t.starts_with("  ") && matches!(out.last(), Some(Block::Bullet(_))) {
            // A bullet's continuation on its own line.
            out.push(Block::Bullet(format!("\u{0}{}", inline(t.trim()))));
            open = true;
        } else {
            match out.last_mut() {
                Some(Block::Paragraph(p)) if open => {
                    p.push(' ');
                    p.push_str(&inline(t.trim()));
                }
                _ => out.push(Block::Paragraph(inline(t.trim()))),
            }
            open = true;
        }
    }
    out
}

/// Helvetica's advance widths (per 1000 em) for ASCII 32–126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556,
    556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278,
    500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469,
    556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500,
    278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/// The WinAnsi bytes of `s` (characters outside it spelled in ASCII).
fn winansi(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\u{20}'..='\u{7e}' => out.push(c as u8),
            '€' => out.push(0x80),
            '…' => out.push(0x85),
            '‘' => out.push(0x91),
            '’' => out.push(0x92),
            '“' => out.push(0x93),
            '”' => out.push(0x94),
            '•' => out.push(0x95),
            '–' => out.push(0x96),
            '—' => out.push(0x97),
            '−' => out.push(b'-'),
            '≥' => out.extend_from_slice(b">="),
            '≤' => out.extend_from_slice(b"<="),
            '→' => out.extend_from_slice(b"->"),
            '\u{a0}'..='\u{ff}' => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out
}

/// The width of `bytes` in points at `size`.
fn width(bytes: &[u8], font: Font, size: f32) -> f32 {
    let em: u32 = bytes
        .iter()
        .map(|b| match b {
            32..=126 => u32::from(HELVETICA[usize::from(*b) - 32]),
            _ => 556,
        })
        .sum();
    // Bold glyphs are a little wider: never let a bold line overflow.
    let bold = if font == Font::Bold { 1.08 } else { 1.0 };
    em as f32 * size / 1000.0 * bold
}

/// `text` broken into lines no wider than `max` points (a word longer than
/// a line is cut).
fn wrap(text: &str, font: Font, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut w = winansi(word);
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(&w);
        if width(&candidate, font, size) <= max {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        while width(&w, font, size) > max && w.len() > 1 {
            let mut cut = w.len();
            while cut > 1 && width(&w[..cut], font, size) > max {
                cut -= 1;
            }
            lines.push(w[..cut].to_vec());
            w = w[cut..].to_vec();
        }
        line = w;
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A line placed on a page.
struct Placed {
    x: f32,
    y: f32,
    font: Font,
    size: f32,
    text: Vec<u8>,
}

/// A chart placed on a page: its box's bottom-left corner and size.
struct PlacedChart {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
    spec: crate::chart::ChartSpec,
}

const CHART_H: f32 = 90.0;

/// A page's contents.
#[derive(Default)]
struct Page {
    lines: Vec<Placed>,
    charts: Vec<PlacedChart>,
}

/// Pages being filled top-down (y from the bottom, as PDF has it).
struct Layout {
    pages: Vec<Page>,
    y: f32,
}

impl Layout {
    fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = PAGE_H - MARGIN;
    }

    /// Room for `height` points after `before`, on a new page if need be;
    /// returns the bottom of that room.
    fn room(&mut self, before: f32, height: f32) -> f32 {
        if self.y - before - height < MARGIN + 20.0 {
            self.new_page();
        } else {
            self.y -= before;
        }
        self.y -= height;
        self.y
    }

    /// Lines of text; the first `keep` stay on one page with what precedes.
    fn lines(&mut self, lines: Vec<Vec<u8>>, x: f32, font: Font, size: f32, before: f32, keep: usize) {
        let lead = size * 1.35;
        if self.y - before - lead * (keep as f32) < MARGIN + 20.0 {
            self.new_page();
        } else {
            self.y -= before;
        }
        for text in lines {
            let y = self.room(0.0, lead);
            if let Some(p) = self.pages.last_mut() {
                p.lines.push(Placed {
                    x,
                    y,
                    font,
                    size,
                    text,
                });
            }
        }
    }
}

/// Lays the blocks out on pages.
fn layout(blocks: &[Block]) -> Vec<Page> {
    let mut l = Layout {
        pages: vec![Page::default()],
        y: PAGE_H - MARGIN,
    };
    let text_w = PAGE_W - 2.0 * MARGIN;
    for b in blocks {
        match b {
            Block::Heading(level, t) => {
                let size = match level {
                    1 => 18.0,
                    2 => 14.0,
                    _ => 11.5,
                };
                let n = wrap(t, Font::Bold, size, text_w);
                let keep = n.len() + 2;
                l.lines(
                    n,
                    MARGIN,
                    Font::Bold,
                    size,
                    if *level == 1 { 0.0 } else { size * 0.8 },
                    keep,
                );
            }
            Block::Paragraph(t) => l.lines(
                wrap(t, Font::Regular, BODY, text_w),
                MARGIN,
                Font::Regular,
                BODY,
                5.0,
                1,
            ),
            Block::Quote(t) => l.lines(
                wrap(t, Font::Oblique, BODY, text_w - 18.0),
                MARGIN + 18.0,
                Font::Oblique,
                BODY,
                4.0,
                1,
            ),
            Block::Chart(spec) => {
                let y = l.room(8.0, CHART_H);
                let chart = PlacedChart {
                    x: MARGIN + 6.0,
                    y,
                    w: text_w * 0.8,
                    h: CHART_H,
                    spec: spec.clone(),
                };
                if let Some(p) = l.pages.last_mut() {
                    p.charts.push(chart);
                }
                l.y -= 4.0;
            }
            Block::Bullet(t) => {
                let (cont, t) = match t.strip_prefix('\u{0}') {
                    Some(rest) => (true, rest),
                    None => (false, t.as_str()),
                };
                let mut lines = wrap(t, Font::Regular, BODY, text_w - 14.0);
                if !cont && let Some(first) = lines.first_mut() {
                    // The bullet hangs in the margin of the list.
                    let mut with = vec![0x95, b' '];
                    with.extend_from_slice(first);
                    *first = with;
                }
                let x = if cont { MARGIN + 14.0 } else { MARGIN + 6.0 };
                let before = if cont { 4.0 } else { 2.0 };
                // Continuation lines of a wrapped item align with its text.
                let mut it = lines.into_iter();
                if let Some(first) = it.next() {
                    l.lines(vec![first], x, Font::Regular, BODY, before, 1);
                }
                let rest: Vec<Vec<u8>> = it.collect();
                if !rest.is_empty() {
                    l.lines(rest, MARGIN + 14.0, Font::Regular, BODY, 0.0, 1);
                }
            }
        }
    }
    l.pages
}

/// Draws a chart: a base line, the band between target and warning in
/// pale yellow, the target as a dashed red line, the series as a blue line
/// with a dot per value (gaps break the line), and where the period in
/// progress is heading as a purple range with a ring.
fn draw_chart(c: &mut Content, ch: &PlacedChart) {
    let s = &ch.spec;
    let Some((lo, hi)) = s.range() else {
        return;
    };
    let n = s.values.len();
    let slots = n + s.forecast.len();
    let x = |i: usize| ch.x + ch.w * i as f32 / (slots - 1) as f32;
    let y = |v: f64| ch.y + ch.h * ((v - lo) / (hi - lo)) as f32;
    c.save_state();
    if let (Some(t), Some(w)) = (s.target, s.warning) {
        c.set_fill_rgb(1.0, 0.97, 0.77);
        c.rect(ch.x, y(t).min(y(w)), ch.w, (y(t) - y(w)).abs())
            .fill_nonzero();
    }
    c.set_line_width(0.5).set_stroke_rgb(0.82, 0.84, 0.87);
    c.move_to(ch.x, ch.y).line_to(ch.x + ch.w, ch.y).stroke();
    if let Some(t) = s.target {
        c.set_stroke_rgb(0.81, 0.13, 0.18)
            .set_dash_pattern([3.0, 2.0], 0.0);
        c.move_to(ch.x, y(t)).line_to(ch.x + ch.w, y(t)).stroke();
        c.set_dash_pattern([], 0.0);
    }
    c.set_line_width(1.4).set_stroke_rgb(0.04, 0.41, 0.85);
    let mut pen = false;
    for (i, v) in s.values.iter().enumerate() {
        match v {
            Some(v) if pen => {
                c.line_to(x(i), y(*v));
            }
            Some(v) => {
                c.move_to(x(i), y(*v));
                pen = true;
            }
            None => {
                if pen {
                    c.stroke();
                }
                pen = false;
            }
        }
    }
    if pen {
        c.stroke();
    }
    c.set_fill_rgb(0.04, 0.41, 0.85);
    for (i, v) in s.values.iter().enumerate() {
        if let Some(v) = v {
            c.rect(x(i) - 1.4, y(*v) - 1.4, 2.8, 2.8).fill_nonzero();
        }
    }
    if let (Some(Some(last)), false) = (s.values.last(), s.forecast.is_empty()) {
        // The forecast's 80% range as a pale band, its values dashed.
        c.set_fill_rgb(0.91, 0.87, 0.98);
        c.move_to(x(n - 1), y(*last));
        for (j, (_, _, h)) in s.forecast.iter().enumerate() {
            c.line_to(x(n + j), y(*h));
        }
        for (j, (_, l, _)) in s.forecast.iter().enumerate().rev() {
            c.line_to(x(n + j), y(*l));
        }
        c.close_path().fill_nonzero();
        c.set_line_width(1.4).set_stroke_rgb(0.51, 0.31, 0.87);
        c.set_dash_pattern([3.0, 2.0], 0.0);
        c.move_to(x(n - 1), y(*last));
        for (j, (v, _, _)) in s.forecast.iter().enumerate() {
            c.line_to(x(n + j), y(*v));
        }
        c.stroke();
        c.set_dash_pattern([], 0.0);
    }
    if let Some((v, l, h)) = s.ahead {
        let xe = x(n - 1);
        c.set_line_width(1.6).set_stroke_rgb(0.51, 0.31, 0.87);
        c.move_to(xe, y(l)).line_to(xe, y(h)).stroke();
        c.rect(xe - 2.5, y(v) - 2.5, 5.0, 5.0).stroke();
    }
    c.restore_state();
}

/// The PDF of `md`, each page footed with `title` and its number.
pub(crate) fn from_markdown(title: &str, md: &str) -> Vec<u8> {
    let pages = layout(&blocks(md));
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let info = Ref::new(3);
    let fonts = [
        (Font::Regular, Ref::new(4), "Helvetica"),
        (Font::Bold, Ref::new(5), "Helvetica-Bold"),
        (Font::Oblique, Ref::new(6), "Helvetica-Oblique"),
    ];
    let first_page = 7;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first_page + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(title))
        .creator(TextStr("Yardstick"));
    for (f, id, base) in fonts {
        let _ = f;
        pdf.type1_font(id)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    let n = pages.len();
    for (i, page_content) in pages.into_iter().enumerate() {
        let placed = &page_content.lines;
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(content_id);
        {
            let mut res = page.resources();
            let mut f = res.fonts();
            for (font, id, _) in fonts {
                f.pair(font.name(), id);
            }
            f.finish();
        }
        page.finish();
        let mut c = Content::new();
        for p in placed {
            c.begin_text();
            c.set_font(p.font.name(), p.size);
            c.next_line(p.x, p.y);
            c.show(Str(&p.text));
            c.end_text();
        }
        for ch in &page_content.charts {
            draw_chart(&mut c, ch);
        }
        let foot = winansi(&format!("{title} — page {} of {n}", i + 1));
        c.begin_text();
        c.set_font(Font::Regular.name(), 8.0);
        c.next_line(MARGIN, MARGIN - 24.0);
        c.show(Str(&foot));
        c.end_text();
        pdf.stream(content_id, &c.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_never_overflow_and_keep_every_word() {
        let text = "The Provider shall maintain a system uptime of at least 99.5% each month, excluding scheduled maintenance. sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123";
        let lines = wrap(text, Font::Regular, BODY, 200.0);
        assert!(lines.len() > 3);
        for l in &lines {
            assert!(
                width(l, Font::Regular, BODY) <= 200.0,
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        let joined: String = lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined.replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn text_outside_winansi_is_spelled_out() {
        assert_eq!(winansi("≥ €5 – ok"), b">= \x805 \x96 ok".to_vec());
        assert_eq!(winansi("Zürich"), b"Z\xfcrich".to_vec());
        assert_eq!(winansi("日"), b"?".to_vec());
    }

    #[test]
    fn the_markdown_subset_becomes_blocks() {
        let b = blocks(
            "# Title\n\nA paragraph\nthat goes on.\n- **one**\n  signature line\n> quoted `code`\n<!-- chart 1,,3 | 2 -->\n## Next",
        );
        let kinds: Vec<String> = b
            .iter()
            .map(|x| match x {
                Block::Heading(l, t) => format!("h{l}:{t}"),
                Block::Paragraph(t) => format!("p:{t}"),
                Block::Bullet(t) => format!("li:{}", t.replace('\u{0}', "+")),
                Block::Quote(t) => format!("q:{t}"),
                Block::Chart(c) => format!("chart:{}:{:?}", c.values.len(), c.target),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "h1:Title",
                "p:A paragraph that goes on.",
                "li:one",
                "li:+signature line",
                "q:quoted code",
                "chart:3:Some(2.0)",
                "h2:Next"
            ]
        );
    }
}
