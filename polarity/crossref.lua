-- The Quarto syntax our templates use, for the pandoc fallback renderer, and nothing more:
-- * cross-references: numbers figures (#fig-), tables (#tbl-) and sections (#sec-) in
--   document order, turns `@fig-x` into a link reading "Figure 1", prefixes captions in HTML
--   (Typst numbers its own captions, in the same order), and moves `fig-alt` into the alt
--   text. Unknown `@fig-`/`@tbl-`/`@sec-` ids stop the render: a dangling reference is a bug.
-- * `.content-visible when-format="html"` divs: kept in HTML, dropped elsewhere.
-- * callouts (`.callout-note`, ...): Quarto's titled callout markup in HTML.
-- * `citation:`, `google-scholar:` and `license:` front matter: Highwire `citation_*` meta tags in HTML, and
--   Quarto's HTML-only appendix (References, "Reuse", "Citation" with a BibTeX entry).

local KINDS = { fig = "Figure", tbl = "Table", sec = "Section" }
local numbers = {} -- id -> "3" or "2.1"
local counters = { fig = 0, tbl = 0 }
local section_counts = {}
local is_html = FORMAT:match("html") ~= nil

local function kind_of(id)
  local prefix = id:match("^(%a+)%-")
  return prefix and KINDS[prefix] and prefix or nil
end

local function section_number(level)
  section_counts[level] = (section_counts[level] or 0) + 1
  for deeper = level + 1, 6 do section_counts[deeper] = nil end
  local parts = {}
  for l = 1, level do parts[#parts + 1] = tostring(section_counts[l] or 0) end
  return table.concat(parts, ".")
end

local function prefix_caption(caption, label)
  if not is_html then return caption end
  local first = caption.long[1]
  if first and (first.t == "Plain" or first.t == "Para") then
    first.content:insert(1, pandoc.Space())
    first.content:insert(1, pandoc.Strong({ pandoc.Str(label .. ":") }))
  end
  return caption
end

-- First pass: assign numbers in document order.
local function counted(kind)
  return function(el)
    if kind_of(el.identifier) == kind then
      counters[kind] = counters[kind] + 1
      numbers[el.identifier] = tostring(counters[kind])
    end
  end
end

local function number_blocks(doc)
  doc.blocks:walk({
    Header = function(h)
      if h.classes:includes("unnumbered") then return nil end
      local n = section_number(h.level)
      if kind_of(h.identifier) == "sec" then numbers[h.identifier] = n end
    end,
    Figure = counted("fig"),
    Table = counted("tbl"),
  })
end

-- Second pass: captions, alt text and references.
local resolve = {
  Figure = function(f)
    if numbers[f.identifier] then
      f.caption = prefix_caption(f.caption, "Figure " .. numbers[f.identifier])
    end
    return f
  end,
  Table = function(t)
    if numbers[t.identifier] then
      t.caption = prefix_caption(t.caption, "Table " .. numbers[t.identifier])
    end
    return t
  end,
  Image = function(img)
    local alt = img.attributes["fig-alt"]
    if not alt then return img end
    if FORMAT == "typst" then
      -- pandoc's Typst writer drops alt text; Typst's image() takes it (tagged PDF).
      local quoted = alt:gsub("\\", "\\\\"):gsub('"', '\\"')
      return pandoc.RawInline("typst", string.format('#image("%s", alt: "%s")', img.src, quoted))
    end
    img.caption = { pandoc.Str(alt) }
    img.attributes["fig-alt"] = nil
    return img
  end,
  Cite = function(cite)
    local out, rest = pandoc.List(), pandoc.List()
    for _, c in ipairs(cite.citations) do
      local kind = kind_of(c.id)
      if kind then
        if not numbers[c.id] then
          error("cross-reference @" .. c.id .. " points to no " .. KINDS[kind]:lower())
        end
        if #out > 0 then out:insert(pandoc.Str(", ")) end
        out:insert(pandoc.Link({ pandoc.Str(KINDS[kind] .. "\u{a0}" .. numbers[c.id]) }, "#" .. c.id))
      else
        rest:insert(c)
      end
    end
    if #out == 0 then return nil end
    if #rest > 0 then
      out:insert(pandoc.Space())
      out:insert(pandoc.Cite({}, rest))
    end
    return out
  end,
}

local function visible_here(div)
  local when, unless = div.attributes["when-format"], div.attributes["unless-format"]
  local format = is_html and "html" or FORMAT
  if div.classes:includes("content-visible") then
    return (when == nil or when == format) and (unless == nil or unless ~= format)
  end
  if div.classes:includes("content-hidden") then
    return not ((when == nil or when == format) and (unless == nil or unless ~= format))
  end
  return true
end

local CALLOUTS = { note = "Note", warning = "Warning", important = "Important", tip = "Tip",
  caution = "Caution" }

-- Quarto's titled callout in HTML: a header with icon and title ("Note" unless `title=`),
-- then the body.
local function callout(div)
  for kind, default_title in pairs(CALLOUTS) do
    if div.classes:includes("callout-" .. kind) and not div.classes:includes("callout") then
      local title = div.attributes["title"] or default_title
      local header = pandoc.Div({
        pandoc.Div({ pandoc.RawBlock("html", '<i class="callout-icon"></i>') },
          pandoc.Attr("", { "callout-icon-container" })),
        pandoc.Div({ pandoc.Plain(pandoc.Inlines(title)) },
          pandoc.Attr("", { "callout-title-container", "flex-fill" })),
      }, pandoc.Attr("", { "callout-header", "d-flex", "align-content-center" }))
      local body = pandoc.Div(div.content, pandoc.Attr("", { "callout-body-container", "callout-body" }))
      return pandoc.Div({ header, body }, pandoc.Attr(div.identifier,
        { "callout", "callout-style-default", "callout-" .. kind, "callout-titled" }))
    end
  end
end

local conditional = {
  Div = function(div)
    if not visible_here(div) then return {} end
    if div.classes:includes("content-visible") or div.classes:includes("content-hidden") then
      return div.content
    end
    if is_html then return callout(div) end
    -- Elsewhere a callout's own title leads its text, as Quarto's Typst callout shows it.
    if div.attributes["title"] then
      for kind in pairs(CALLOUTS) do
        if div.classes:includes("callout-" .. kind) then
          div.content:insert(1, pandoc.Para({ pandoc.Strong(pandoc.Inlines(div.attributes["title"])) }))
          return div
        end
      end
    end
  end,
}

local function text(value)
  return value and pandoc.utils.stringify(value) or nil
end

local function authors(meta)
  -- Quarto's author forms: a string, `name: "..."`, or `name: {literal | given, family}`.
  local names = pandoc.List()
  for _, a in ipairs(meta.author or {}) do
    local name = a.name or a
    if type(name) == "table" and (name.literal or name.family) then
      name = name.literal or ((text(name.given) or "") .. " " .. text(name.family))
    end
    names:insert(text(name))
  end
  return names
end

local MONTHS = { "January", "February", "March", "April", "May", "June", "July", "August",
  "September", "October", "November", "December" }

-- Quarto's HTML title block shows the date in long form ("November 26, 2026").
local function long_date(iso)
  local y, m, d = (iso or ""):match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
  if not y then return iso end
  return MONTHS[tonumber(m)] .. " " .. tonumber(d) .. ", " .. y
end

local function heading(title, id)
  local classes = { "unnumbered", "anchored", "quarto-appendix-heading" }
  return pandoc.Header(2, pandoc.Inlines(title), pandoc.Attr(id or "", classes))
end

local function section(blocks, attributes)
  return pandoc.Div(blocks, pandoc.Attr("", { "quarto-appendix-contents" }, attributes or {}))
end

local function label(words)
  return pandoc.Div({ pandoc.Plain(pandoc.Inlines(words)) },
    pandoc.Attr("", { "quarto-appendix-secondary-label" }))
end

local function bibtex_entry(meta, names)
  local cite = meta.citation
  local title, year = text(meta.title), (text(cite.issued) or text(meta.date) or ""):sub(1, 4)
  local fields = {
    "  author = {" .. table.concat(names, " and ") .. "}",
    "  title = {" .. title .. "}",
    "  date = {" .. (text(cite.issued) or text(meta.date) or "") .. "}",
  }
  if cite.version then fields[#fields + 1] = "  version = {" .. text(cite.version) .. "}" end
  if cite.url then fields[#fields + 1] = "  url = {" .. text(cite.url) .. "}" end
  fields[#fields + 1] = "  langid = {" .. (text(meta.lang) or "en") .. "}"
  local key = (names[1] or "report"):gsub("%W", ""):lower() .. year
  local bibtex = "@techreport{" .. key .. ",\n" .. table.concat(fields, ",\n") .. "\n}"
  local attribution = table.concat(names, ", ") .. ". " .. year .. ". \u{201C}" .. title
    .. ".\u{201D}" .. (cite.version and (" Version " .. text(cite.version) .. ".") or "")
  return bibtex, attribution
end

-- Quarto's HTML appendix (HTML only, as in Quarto): "Reuse" (license:), then "Citation"
-- (citation:). The references stay where the article puts its #refs div, as Quarto 1.10
-- leaves them (seen in its output; it builds an appendix section for them only when the
-- article places no #refs).
local function appendix(doc)
  local sections = pandoc.List()
  local kept = pandoc.List(doc.blocks)
  local meta = doc.meta
  if meta.license then
    sections:insert(section({ heading("Reuse"),
      pandoc.Div({ pandoc.Plain(pandoc.Inlines(text(meta.license))) },
        pandoc.Attr("quarto-reuse", { "quarto-appendix-contents" })) }))
  end
  if meta.citation then
    local bibtex, attribution = bibtex_entry(meta, authors(meta))
    sections:insert(section({ heading("Citation"), pandoc.Div({
      label("BibTeX citation:"),
      pandoc.CodeBlock(bibtex, pandoc.Attr("", { "bibtex", "quarto-appendix-bibtex" })),
      label("For attribution, please cite this work as:"),
      pandoc.Div({ pandoc.Plain(pandoc.Inlines(attribution)) },
        pandoc.Attr("", { "csl-entry", "quarto-appendix-citeas" })),
    }) }))
  end
  if #sections > 0 then
    kept:insert(pandoc.Div(sections, pandoc.Attr("quarto-appendix", { "default" })))
  end
  doc.blocks = kept
  return doc
end

local function attr(value)
  return (value:gsub("&", "&amp;"):gsub('"', "&quot;"):gsub("<", "&lt;"))
end

-- The Highwire tags Quarto's `google-scholar: true` writes (format-html-meta.ts), in its
-- order, from the same `citation:` fields; citation_pdf_url only from an absolute `pdf-url`.
local function highwire_tags(meta)
  local cite = meta.citation
  local tags = pandoc.List()
  local function write(name, value)
    if value then tags:insert('<meta name="' .. name .. '" content="' .. attr(value) .. '">') end
  end
  write("citation_title", text(cite.title) or text(meta.title))
  for _, name in ipairs(authors(meta)) do write("citation_author", name) end
  local issued = text(cite.issued) or text(meta.date)
  if issued then
    write("citation_publication_date", issued)
    write("citation_cover_date", issued)
    write("citation_year", issued:sub(1, 4))
  end
  write("citation_fulltext_html_url", text(cite.url))
  local pdf_url = text(cite["pdf-url"])
  if pdf_url and pdf_url:match("^%a[%w+.-]*://") then write("citation_pdf_url", pdf_url) end
  write("citation_language", text(cite.language) or text(meta.lang))
  return tags
end

-- One `citation_reference` per bibliography entry, as Quarto writes them: the entry's own
-- tags as "name=content;" joined by commas.
local function reference_tags(doc)
  local ok, refs = pcall(pandoc.utils.references, doc)
  local tags = pandoc.List()
  if not ok then return tags end
  for _, ref in ipairs(refs) do
    local parts = pandoc.List()
    if ref.title then parts:insert("citation_title=" .. text(ref.title) .. ";") end
    for _, a in ipairs(ref.author or {}) do
      local name = a.literal and text(a.literal) or ((text(a.given) or "") .. " " .. (text(a.family) or ""))
      parts:insert("citation_author=" .. name .. ";")
    end
    local dates = ref.issued and ref.issued["date-parts"]
    local year = dates and dates[1] and dates[1][1]
    if year then
      local y = tostring(text(year) or year)
      parts:insert("citation_publication_date=" .. y .. ";")
      parts:insert("citation_cover_date=" .. y .. ";")
      parts:insert("citation_year=" .. y .. ";")
    end
    local url, doi = ref.URL or ref.url, ref.DOI or ref.doi
    if url then parts:insert("citation_fulltext_html_url=" .. text(url) .. ";") end
    if doi then parts:insert("citation_doi=" .. text(doi) .. ";") end
    tags:insert('<meta name="citation_reference" content="' .. attr(table.concat(parts, ",")) .. '">')
  end
  return tags
end

function Pandoc(doc)
  local is_quarto_meta = doc.meta.citation ~= nil
  -- Quarto's structured authors as the plain names pandoc's templates print.
  if doc.meta.author then
    local names = pandoc.List()
    for _, name in ipairs(authors(doc.meta)) do names:insert(pandoc.MetaInlines(pandoc.Inlines(name))) end
    doc.meta.author = pandoc.MetaList(names)
  end
  doc = doc:walk(conditional)
  number_blocks(doc)
  doc = doc:walk(resolve)
  if is_html then
    doc = appendix(doc)
    -- Quarto's "Other Formats" links; the fallback names its PDF with `-M fallback-pdf=...`.
    if doc.meta["fallback-pdf"] then
      doc.meta["other-formats"] = pandoc.MetaList({ pandoc.MetaMap({
        href = pandoc.MetaString(text(doc.meta["fallback-pdf"])),
        text = pandoc.MetaString("PDF") }) })
    end
    if doc.meta.date then doc.meta.date = pandoc.MetaInlines(pandoc.Inlines(long_date(text(doc.meta.date)))) end
  end
  if is_html and is_quarto_meta and doc.meta["google-scholar"] then
    local includes = doc.meta["header-includes"] or pandoc.MetaList({})
    if includes.t ~= "MetaList" then includes = pandoc.MetaList({ includes }) end
    local tags = highwire_tags(doc.meta)
    tags:extend(reference_tags(doc))
    includes:insert(pandoc.MetaBlocks({ pandoc.RawBlock("html", table.concat(tags, "\n")) }))
    doc.meta["header-includes"] = includes
  end
  return doc
end
