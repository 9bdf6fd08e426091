/** Integer minor units (fen) → "¥12.90" (API.md: money is never a float on the wire). */
export function formatMoney(minor: number | null | undefined, currency = "CNY", lang: string = "zh-CN"): string {
  const v = Number(minor ?? 0);
  try {
    return new Intl.NumberFormat(lang, { style: "currency", currency, minimumFractionDigits: 2 }).format(v / 100);
  } catch {
    return `${currency} ${(v / 100).toFixed(2)}`;
  }
}
