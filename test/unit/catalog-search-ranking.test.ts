import {
  EXACT_WEIGHT,
  HEAD_WEIGHT,
  MAX_QUERY_VARIANTS,
  cleanSynonymWords,
  indexTerms,
  prefixUpperBound,
  queryHead,
  queryMarks,
  queryTerms,
  queryVariants,
} from "../../services/catalog/domain/search-tokens";

/** The score the SQL gives a product for a query (terms required, head and marks added), or null. */
function score(q: string, title: string, subtitle = ""): number | null {
  const index = indexTerms(title, subtitle);
  let total = 0;
  for (const t of queryTerms(q)) {
    const upper = prefixUpperBound(t.term);
    const hits = index.filter((i) => (t.prefix ? i.term >= t.term && i.term < upper : i.term === t.term));
    if (!hits.length) return null;
    total += Math.max(...hits.map((h) => h.weight));
  }
  const head = queryHead(q);
  if (index.some((i) => i.term === head && i.head)) total += HEAD_WEIGHT;
  for (const m of queryMarks(q)) total += index.find((i) => i.term === m)?.weight ?? 0;
  return total;
}

describe("search ranking marks", () => {
  it("ranks a product whose phrase is headed by the keyword above one that merely contains it", () => {
    const phone = score("手机", "华为 Mate 60 Pro 手机")!;
    const phone2 = score("手机", "小米14 智能手机 12GB")!;
    const case_ = score("手机", "手机壳 透明防摔")!;
    const film = score("手机", "手机钢化膜 高清")!;
    expect(case_).not.toBeNull();
    expect(film).not.toBeNull();
    expect(phone).toBeGreaterThan(case_);
    expect(phone2).toBeGreaterThan(case_);
    expect(phone).toBeGreaterThan(film);
    expect(phone - case_).toBe(HEAD_WEIGHT);
  });

  it("ranks the product whose title is the query above all others", () => {
    const exact = score("西红柿", "西红柿")!;
    const headed = score("西红柿", "新鲜西红柿")!;
    expect(exact).toBeGreaterThan(headed);
    expect(exact - headed).toBe(EXACT_WEIGHT);
    expect(score("organic tomato", "Organic  TOMATO")).toBeGreaterThan(score("organic tomato", "Organic Tomato Pack")!);
  });

  it("uses the last English word as the head", () => {
    expect(score("phone case", "Clear Phone Case")).toBeGreaterThan(score("phone case", "Phone with a free case cover")!);
    expect(score("case", "Phone Case")).toBeGreaterThan(score("case", "Case for phone")!);
  });

  it("marks never match word queries and never make a product match", () => {
    expect(score("pack", "Organic Tomato")).toBeNull();
    for (const t of queryTerms("$tomato =organic")) expect(t.term.startsWith("$") || t.term.startsWith("=")).toBe(false);
    // the heads of a product (flagged rows) and its exact mark survive the per-product term cap
    const long = indexTerms(`商品 ${Array.from({ length: 400 }, (_, i) => `w${i}x`).join(" ")} 手机`);
    expect(long.filter((t) => t.head).map((t) => t.term).sort()).toEqual(["w399x", "商品", "手机"].sort());
    expect(long.some((t) => t.term.startsWith("="))).toBe(true);
  });

  it("flags a title's heads on their own term rows, and only those", () => {
    const index = indexTerms("华为 Mate 60 Pro 手机", "手机壳 赠品");
    expect(index.filter((t) => t.head).map((t) => t.term).sort()).toEqual(["pro", "华为", "手机"].sort());
    expect(index.find((t) => t.term === "机壳")).toEqual({ term: "机壳", weight: 1 });
    expect(index.some((t) => t.term.startsWith("$"))).toBe(false);
    expect(queryHead("新鲜 西红柿")).toBe("红柿");
    expect(queryHead("wireless headphones")).toBe("headphones");
    expect(queryHead("!!!")).toBeNull();
  });
});

describe("synonyms", () => {
  const groups = [["番茄", "西红柿"], ["土豆", "马铃薯"], ["cell phone", "mobile"]];

  it("expands a query with each synonym of a word it contains", () => {
    expect(queryVariants("番茄", groups)).toEqual(["番茄", "西红柿"]);
    expect(queryVariants("新鲜番茄 500g", groups)).toEqual(["新鲜番茄 500g", "新鲜西红柿 500g"]);
    expect(queryVariants("西红柿炒蛋", groups)).toEqual(["西红柿炒蛋", "番茄炒蛋"]);
    expect(queryVariants("苹果", groups)).toEqual(["苹果"]);
  });

  it("replaces Latin words only as whole words, case-insensitively", () => {
    expect(queryVariants("Mobile case", groups)).toEqual(["mobile case", "cell phone case"]);
    expect(queryVariants("automobile", groups)).toEqual(["automobile"]);
  });

  it("bounds the number of spellings", () => {
    const many = Array.from({ length: 10 }, (_, i) => ["番茄", `别名${i}`]);
    expect(queryVariants("番茄", many)).toHaveLength(MAX_QUERY_VARIANTS);
  });

  it("cleans admin input: normalised, distinct, with letters or digits", () => {
    expect(cleanSynonymWords([" Tomato ", "TOMATO", "番茄", "!!!"])).toEqual(["tomato", "番茄"]);
    expect(cleanSynonymWords(["Ｍｏｂｉｌｅ  Phone"])).toEqual(["mobile phone"]);
  });
});
