-- The Quarto syntax our templates use, for the pandoc fallback renderer, and nothing more:
-- * cross-references: numbers figures (#fig-), tables (#tbl-) and sections (#sec-) in
--   document order, turns `@fig-x` into a link reading "Figure 1", prefixes captions in HTML
--   (Typst numbers its own captions, in the same order), and moves `fig-alt` into the alt
--   text. Unknown `@fig-`/`@tbl-`/`@sec-` ids stop the render: a dangling reference is a bug.
-- * `.content-visible when-format="html"` divs: kept in HTML, dropped elsewhere.
-- * `citation:` and `license:` front matter: Highwire `citation_*` meta tags in HTML, and
--   "Reuse" and "Citation" appendix sections with a BibTeX entry, as Quarto adds them.

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

local conditional = {
  Div = function(div)
    if not visible_here(div) then return {} end
    if div.classes:includes("content-visible") or div.classes:includes("content-hidden") then
      return div.content
    end
  end,
}

local function text(value)
  return value and pandoc.utils.stringify(value) or nil
end

local function authors(meta)
  local names = pandoc.List()
  for _, a in ipairs(meta.author or {}) do
    names:insert(text(a.name or a))
  end
  return names
end

local function citation_blocks(meta)
  local cite = meta.citation
  if not cite then return {} end
  local title, year = text(meta.title), (text(cite.issued) or text(meta.date) or ""):sub(1, 4)
  local names = authors(meta)
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
  local blocks = pandoc.List()
  if meta.license then
    blocks:insert(pandoc.Header(1, "Reuse", pandoc.Attr("reuse", { "unnumbered" })))
    blocks:insert(pandoc.Para({ pandoc.Str(text(meta.license)) }))
  end
  blocks:insert(pandoc.Header(1, "Citation", pandoc.Attr("citation", { "unnumbered" })))
  blocks:insert(pandoc.Para(pandoc.Inlines("BibTeX citation:")))
  blocks:insert(pandoc.CodeBlock(bibtex, pandoc.Attr("", { "bibtex" })))
  blocks:insert(pandoc.Para(pandoc.Inlines("For attribution, please cite this work as:")))
  blocks:insert(pandoc.Para(pandoc.Inlines(attribution)))
  return blocks
end

local function attr(value)
  return (value:gsub("&", "&amp;"):gsub('"', "&quot;"):gsub("<", "&lt;"))
end

local function highwire_tags(meta)
  local tags = { '<meta name="citation_title" content="' .. attr(text(meta.title)) .. '">' }
  for _, name in ipairs(authors(meta)) do
    tags[#tags + 1] = '<meta name="citation_author" content="' .. attr(name) .. '">'
  end
  local issued = text(meta.citation.issued) or text(meta.date)
  if issued then
    tags[#tags + 1] = '<meta name="citation_publication_date" content="' .. issued:gsub("-", "/") .. '">'
  end
  tags[#tags + 1] = '<meta name="citation_pdf_url" content="index.pdf">'
  tags[#tags + 1] = '<meta name="citation_language" content="' .. (text(meta.lang) or "en") .. '">'
  return pandoc.RawBlock("html", table.concat(tags, "\n"))
end

function Pandoc(doc)
  -- Quarto's structured authors (`- name: ...`) as the plain names pandoc's templates print.
  if doc.meta.author then
    local names = pandoc.List()
    for _, name in ipairs(authors(doc.meta)) do names:insert(pandoc.MetaInlines(pandoc.Inlines(name))) end
    doc.meta.author = pandoc.MetaList(names)
  end
  doc = doc:walk(conditional)
  number_blocks(doc)
  doc = doc:walk(resolve)
  doc.blocks:extend(citation_blocks(doc.meta))
  if is_html and doc.meta.citation then
    local includes = doc.meta["header-includes"] or pandoc.MetaList({})
    if includes.t ~= "MetaList" then includes = pandoc.MetaList({ includes }) end
    includes:insert(pandoc.MetaBlocks({ highwire_tags(doc.meta) }))
    doc.meta["header-includes"] = includes
  end
  return doc
end
