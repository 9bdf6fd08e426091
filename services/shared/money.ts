/** Money in words people read (messages, warnings to operators); amounts are integer fen. */

/** ¥12.34 for CNY, 12.34 USD otherwise. */
export function formatMoney(fen: number, currency = "CNY"): string {
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(Math.trunc(fen));
  const amount = `${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
  return currency === "CNY" ? `${sign}¥${amount}` : `${sign}${amount} ${currency}`;
}
