/**
 * A line chart as a standalone SVG, on log-log axes: enough for the benchmark plots in BENCHMARKS.md without a
 * plotting dependency. Pure: data in, markup out.
 */

export interface Series {
  label: string
  /** [x, y] pairs, x ascending; both positive (log axes). */
  points: readonly (readonly [number, number])[]
  /** Drawn dashed: a comparison beside the main lines. */
  dashed?: boolean
}

/** A point drawn as a hollow diamond, its label in the legend: a goal, say. */
export interface Marker {
  x: number
  y: number
  label: string
}

export interface LineChart {
  title: string
  /** A second line under the title: the run's settings, or a warning that the figures are not results. */
  subtitle?: string
  xLabel: string
  yLabel: string
  /** Ticks of the x axis, which spans the first to the last. */
  xTicks: readonly { value: number; label: string }[]
  /** How a y tick is written, e.g. 1500 -> "1.5 s". */
  yFormat: (value: number) => string
  series: readonly Series[]
  markers?: readonly Marker[]
}

/** Space beyond the outer ticks of either axis, as a fraction of the ticks' log span. */
const AXIS_MARGIN = 0.04
const WIDTH = 760
const HEIGHT = 460
const MARGIN = { left: 78, right: 180, top: 64, bottom: 58 }
/** Colour-blind-safe (Okabe–Ito), in the order lines are drawn. */
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#000000']

const xmlText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
const fixed = (v: number) => v.toFixed(1)

/** Ticks at 1, 2 and 5 times each power of ten between `min` and `max`, widened to whole steps. */
function logTicks(min: number, max: number): number[] {
  const ticks: number[] = []
  for (let decade = 10 ** Math.floor(Math.log10(min)); decade <= max * 10; decade *= 10) {
    for (const step of [1, 2, 5]) ticks.push(step * decade)
  }
  const below = ticks.filter((t) => t <= min).at(-1) ?? ticks[0]!
  const above = ticks.find((t) => t >= max) ?? ticks.at(-1)!
  return ticks.filter((t) => t >= below && t <= above)
}

export function lineChartSvg(chart: LineChart): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const ys = [...chart.series.flatMap((s) => s.points.map((p) => p[1])), ...(chart.markers ?? []).map((m) => m.y)]
  const yTicks = logTicks(Math.min(...ys), Math.max(...ys))
  let [x0, x1] = [chart.xTicks[0]!.value, chart.xTicks.at(-1)!.value]
  // One tick alone spans nothing: give the axis a factor of two either side. Else a margin, so that the first
  // and last points sit off the frame.
  if (x1 <= x0) [x0, x1] = [x0 / 2, x1 * 2]
  else [x0, x1] = [x0 / (x1 / x0) ** AXIS_MARGIN, x1 * (x1 / x0) ** AXIS_MARGIN]
  // The same margin above and below the outer ticks, so that points on them sit off the frame.
  const ySpan = yTicks.at(-1)! / yTicks[0]!
  const [y0, y1] = [yTicks[0]! / ySpan ** AXIS_MARGIN, yTicks.at(-1)! * ySpan ** AXIS_MARGIN]
  const sx = (x: number) => MARGIN.left + (Math.log(x / x0) / Math.log(x1 / x0)) * plotW
  const sy = (y: number) => MARGIN.top + plotH - (Math.log(y / y0) / Math.log(y1 / y0)) * plotH
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="12">`,
    // The accessible name: what a screen reader (or a page that fails to load the image) says of it.
    `<title>${xmlText(chart.subtitle ? `${chart.title} (${chart.subtitle})` : chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">${xmlText(chart.title)}</text>`,
  ]
  if (chart.subtitle) out.push(`<text x="16" y="44" font-size="11" fill="#555555">${xmlText(chart.subtitle)}</text>`)
  for (const tick of chart.xTicks) {
    const x = fixed(sx(tick.value))
    out.push(
      `<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${xmlText(tick.label)}</text>`,
    )
  }
  for (const tick of yTicks) {
    const y = fixed(sy(tick))
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${xmlText(chart.yFormat(tick))}</text>`,
    )
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888888"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${xmlText(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xmlText(chart.yLabel)}</text>`,
  )
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length]!
    const path = series.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${fixed(sx(x))} ${fixed(sy(y))}`).join(' ')
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : ''
    out.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`)
    for (const [x, y] of series.points) {
      out.push(`<circle cx="${fixed(sx(x))}" cy="${fixed(sy(y))}" r="3.5" fill="${colour}"/>`)
    }
    const ly = MARGIN.top + 12 + i * 20
    const lx = MARGIN.left + plotW + 16
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${xmlText(series.label)}</text>`,
    )
  })
  // Markers carry no text on the plot, where lines cross it: each distinct label goes in the legend.
  const diamond = (x: number, y: number) =>
    `<path d="M${fixed(x)} ${fixed(y - 6)} L${fixed(x + 6)} ${fixed(y)} L${fixed(x)} ${fixed(y + 6)} L${fixed(x - 6)} ${fixed(y)} Z" fill="none" stroke="#333333" stroke-width="1.5"/>`
  for (const marker of chart.markers ?? []) out.push(diamond(sx(marker.x), sy(marker.y)))
  const labels = [...new Set((chart.markers ?? []).map((m) => m.label))]
  labels.forEach((label, i) => {
    const ly = MARGIN.top + 12 + (chart.series.length + i) * 20
    const lx = MARGIN.left + plotW + 16
    out.push(diamond(lx + 11, ly), `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${xmlText(label)}</text>`)
  })
  out.push('</svg>')
  return `${out.join('\n')}\n`
}
