-- Quarto-style cross-references for the pandoc fallback renderer, and nothing more:
-- numbers figures (#fig-), tables (#tbl-) and sections (#sec-) in document order, turns
-- `@fig-x` into a link reading "Figure 1", prefixes captions in HTML (Typst numbers its own
-- captions, in the same order), and moves Quarto's `fig-alt` attribute into the alt text.
-- Unknown `@fig-`/`@tbl-`/`@sec-` ids stop the render: a dangling reference is a bug.

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
local function number_blocks(doc)
  doc.blocks:walk({
    Header = function(h)
      if h.classes:includes("unnumbered") then return nil end
      local n = section_number(h.level)
      if kind_of(h.identifier) == "sec" then numbers[h.identifier] = n end
    end,
    Figure = function(f)
      if kind_of(f.identifier) == "fig" then
        counters.fig = counters.fig + 1
        numbers[f.identifier] = tostring(counters.fig)
      end
    end,
    Table = function(t)
      if kind_of(t.identifier) == "tbl" then
        counters.tbl = counters.tbl + 1
        numbers[t.identifier] = tostring(counters.tbl)
      end
    end,
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

function Pandoc(doc)
  number_blocks(doc)
  return doc:walk(resolve)
end
