"""The one matplotlib style of every figure: colour-blind-safe, legible at column width."""

# Okabe & Ito's colour-blind-safe palette (Okabe and Ito 2008, "Color universal design").
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermilion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# One fixed colour per encoding across every figure. Normal and inverted, the two the
# question compares, own blue and vermilion: no other quantity is drawn in those colours.
ENCODING_COLOURS = {
    "normal": OKABE_ITO["blue"],
    "inverted": OKABE_ITO["vermilion"],
    "centred": OKABE_ITO["bluish green"],
    "standardised": OKABE_ITO["reddish purple"],
    "negated": OKABE_ITO["sky blue"],
    "inverted-centred": OKABE_ITO["orange"],
    "inverted-standardised": OKABE_ITO["yellow"],
}
POLARITY_COLOURS = {p: ENCODING_COLOURS[p] for p in ("normal", "inverted")}
# Colours left for quantities that are not encodings (setups, modes of evaluation).
OTHER_COLOURS = tuple(
    c for name, c in OKABE_ITO.items() if c not in POLARITY_COLOURS.values() and name != "black"
)
HEATMAP = "cividis"  # perceptually uniform and readable with colour-vision deficiencies
REFERENCE_COLOUR = "#555555"
NEVER_INKED_COLOUR = OKABE_ITO["reddish purple"]  # stands out on cividis

# Figures are drawn at single-column print width (3.4 in), where 7-8 pt text stays legible;
# a figure twice as wide is printed across the page, so its text keeps its size too.
COLUMN_WIDTH = 3.4
TEXT_WIDTH = 6.0  # the PDF's text width (US letter, 1.25 in margins): the widest a figure prints
SMALLEST_FONT_PT = 7  # the smallest text any figure may print, at its drawn size

RC = {
    "figure.figsize": (COLUMN_WIDTH, 2.5),
    "figure.dpi": 100,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.1,
    "svg.hashsalt": "polarity",  # stable element ids, so figure files only change with data
    "svg.fonttype": "path",
    "pdf.fonttype": 42,
}
