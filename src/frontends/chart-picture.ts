// A chart as the PNG a chat attaches (Discord's files[0], Slack's upload): drawn by
// charts/render.ts at twice the pixels (sharp on a phone), echarts and resvg imported only here,
// when a chart is drawn. One place, so the bots' answers and the channel posts look the same.
import type { Chart } from '../model/chart.js';

export interface ChartPicture {
  png: Buffer;
  /** "history.png", "heatmap.png". */
  name: string;
  /** The chart's title and range, for the attachment's description. */
  description: string;
}

/** The chart drawn as a PNG. Throws when it cannot be drawn (the caller sends its text alone). */
export async function chartPicture(chart: Chart): Promise<ChartPicture> {
  const { renderPng } = await import('../charts/render.js');
  return { png: await renderPng(chart, { scale: 2 }), name: `${chart.kind === 'heatmap' ? 'heatmap' : 'history'}.png`, description: `${chart.title} (${chart.subtitle})` };
}
