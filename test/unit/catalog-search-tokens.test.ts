import { indexTerms, normalise, prefixUpperBound, queryTerms } from "../../services/catalog/domain/search-tokens";

/** Does a product with this title/subtitle match the query, the way the SQL evaluates it? */
function matches(q: string, title: string, subtitle = ""): number | null {
  const index = indexTerms(title, subtitle);
  const terms = queryTerms(q);
  if (!terms.length) return null;
  let score = 0;
  for (const t of terms) {
    const upper = prefixUpperBound(t.term);
    const hits = index.filter((i) => (t.prefix ? i.term >= t.term && i.term < upper : i.term === t.term));
    if (!hits.length) return null;
    score += Math.max(...hits.map((h) => h.weight));
  }
  return score;
}

describe("catalog search terms", () => {
  it("finds Chinese words inside titles", () => {
    expect(matches("西红柿", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("红柿", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("西", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("柿", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("西瓜", "新鲜西红柿 500g")).toBeNull();
    expect(matches("红西", "新鲜西红柿 500g")).toBeNull();
  });

  it("finds English words case-insensitively, by prefix", () => {
    expect(matches("tomato", "Organic Tomato Pack")).not.toBeNull();
    expect(matches("TOMATO", "Organic Tomato Pack")).not.toBeNull();
    expect(matches("tom", "Organic Tomato Pack")).not.toBeNull();
    expect(matches("tomatoes", "Organic Tomato Pack")).toBeNull();
    expect(matches("potato", "Organic Tomato Pack")).toBeNull();
  });

  it("requires every word of the query (AND), across scripts", () => {
    expect(matches("organic 西红柿", "有机 Organic 西红柿 礼盒")).not.toBeNull();
    expect(matches("organic 西红柿", "Organic Tomato Pack")).toBeNull();
    expect(matches("organic tomato", "Organic Tomato Pack")).not.toBeNull();
  });

  it("folds full-width letters and accents", () => {
    expect(normalise("ＴＯＭＡＴＯ Café")).toBe("tomato cafe");
    expect(matches("cafe", "Café Crème")).not.toBeNull();
    expect(matches("ｔｏｍａｔｏ", "Organic Tomato Pack")).not.toBeNull();
  });

  it("splits letter/digit words so '500g' and 'iphone 15' match", () => {
    expect(matches("500g", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("500", "新鲜西红柿 500g")).not.toBeNull();
    expect(matches("iphone 15", "Case for iPhone15")).not.toBeNull();
    expect(matches("iphone15", "Case for iPhone 15")).not.toBeNull();
    expect(matches("k3", "Kettle K3-417")).not.toBeNull();
    expect(matches("k3", "Kettle K4-417")).toBeNull();
  });

  it("scores title hits above subtitle hits", () => {
    const inTitle = matches("tomato", "Organic Tomato Pack", "fresh")!;
    const inSubtitle = matches("tomato", "Salad Mix", "with cherry tomato")!;
    const inBoth = matches("tomato", "Tomato", "tomato")!;
    expect(inTitle).toBeGreaterThan(inSubtitle);
    expect(inBoth).toBe(inTitle);
  });

  it("ignores punctuation-only queries and caps the number of terms", () => {
    expect(queryTerms("!!! --- ???")).toEqual([]);
    expect(queryTerms("a b c d e f g h i j k l").length).toBeLessThanOrEqual(8);
  });

  it("does not expand single letters into prefix scans", () => {
    expect(queryTerms("a")).toEqual([{ term: "a", prefix: false }]);
  });

  it("computes prefix upper bounds in code point order", () => {
    expect(prefixUpperBound("tom")).toBe("ton");
    expect(prefixUpperBound("西")).toBe(String.fromCodePoint("西".codePointAt(0)! + 1));
    for (const [p, s] of [["tom", "tomato"], ["西", "西红"], ["ab", "ab\u{1F600}"]]) {
      expect(s >= p && s < prefixUpperBound(p)).toBe(true);
    }
    expect("tonic" < prefixUpperBound("tom")).toBe(false);
  });

  it("indexes each term once with its best weight and caps long words", () => {
    const terms = indexTerms("Tomato tomato", "tomato " + "x".repeat(80));
    expect(terms.filter((t) => t.term === "tomato")).toEqual([{ term: "tomato", weight: 2, head: true }]);
    expect(Math.max(...terms.map((t) => [...t.term].length))).toBeLessThanOrEqual(32);
  });
});
