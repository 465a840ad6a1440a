/** The worker-thread side of a campaign (piscina): one cell in, its outcome out, plain JSON. */
import { type CampaignCellTask, type CellOutcome, runCampaignCell } from './cell.js';

export default function work(task: CampaignCellTask): Promise<CellOutcome> {
  return runCampaignCell(task);
}
