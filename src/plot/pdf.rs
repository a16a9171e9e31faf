//! Figures as PDF, converted from their SVG by `svg2pdf` (pure Rust: no system tool, no
//! system font). The text stays text, set in the embedded DejaVu Sans the figures are drawn
//! with, so a PDF figure is as sharp and searchable as its SVG.

use std::sync::{Arc, OnceLock};

use svg2pdf::usvg::{self, fontdb};

/// The fonts the figures use, loaded once.
fn fonts() -> Arc<fontdb::Database> {
    static FONTS: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = fontdb::Database::new();
            db.load_font_data(dejavu::sans::regular().to_vec());
            db.load_font_data(dejavu::sans::bold().to_vec());
            // plotters names the family `sans-serif`.
            db.set_sans_serif_family("DejaVu Sans");
            Arc::new(db)
        })
        .clone()
}

/// A figure's SVG as a one-page PDF whose page is the figure's size at `dpi` pixels per inch.
pub fn from_svg(svg: &str, dpi: f32) -> anyhow::Result<Vec<u8>> {
    let options = usvg::Options {
        fontdb: fonts(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| anyhow::anyhow!("cannot read the figure's SVG: {e}"))?;
    svg2pdf::to_pdf(
        &tree,
        svg2pdf::ConversionOptions::default(),
        svg2pdf::PageOptions { dpi },
    )
    .map_err(|e| anyhow::anyhow!("cannot convert the figure to PDF: {e}"))
}
