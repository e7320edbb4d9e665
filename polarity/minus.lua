-- A hyphen that starts a number is a minus sign: "−0.07", not "-0.07". Typst turns some
-- such hyphens into minus signs and leaves others, HTML none, so one article showed both.
-- Writing U+2212 here makes every output alike. Only prose is touched: code, math, URLs and
-- attributes keep their hyphens, and so do ranges and dates ("2026-11-27"), whose hyphen
-- does not start a word.

local MINUS = "\u{2212}"

function Str(el)
  local text = el.text:gsub("^([%(%[]?)%-(%.?%d)", "%1" .. MINUS .. "%2")
  if text ~= el.text then
    return pandoc.Str(text)
  end
end
