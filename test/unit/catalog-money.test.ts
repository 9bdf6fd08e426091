import Validator from "fastest-validator";
import { MAX_PRICE, isValidPrice, priceFilterRule, priceRule, priceSpan, stockRule } from "../../services/catalog/domain/money";
import { orderBy } from "../../services/catalog/domain/listing";

const v = new Validator();

describe("catalog prices and quantities", () => {
  const price = v.compile({ price: priceRule });
  const stock = v.compile({ stock: stockRule });

  it("accepts integer fen and rejects negative, zero, fractional, huge and non-numeric prices", () => {
    expect(price({ price: 690 })).toBe(true);
    expect(price({ price: MAX_PRICE })).toBe(true);
    for (const bad of [-1, 0, 1.5, 0.01, MAX_PRICE + 1, "690", null, Number.NaN]) {
      expect(price({ price: bad })).not.toBe(true);
      expect(isValidPrice(bad)).toBe(false);
    }
  });

  it("rejects fractional or negative stock", () => {
    expect(stock({ stock: 0 })).toBe(true);
    expect(stock({ stock: 2.5 })).not.toBe(true);
    expect(stock({ stock: -3 })).not.toBe(true);
  });

  it("converts query-string price filters but still rejects fractions", () => {
    const filter = v.compile({ minPrice: priceFilterRule });
    const ok = { minPrice: "100" as unknown };
    expect(filter(ok)).toBe(true);
    expect(ok.minPrice).toBe(100);
    expect(filter({ minPrice: "1.5" })).not.toBe(true);
    expect(filter({ minPrice: "-1" })).not.toBe(true);
    expect(filter({ minPrice: "abc" })).not.toBe(true);
  });

  it("spans SKU prices", () => {
    expect(priceSpan([1290, 690, 990])).toEqual({ minPrice: 690, maxPrice: 1290 });
  });

  it("orders lists from a fixed table only", () => {
    expect(orderBy("price_asc", false)).toBe("p.min_price ASC, p.id DESC");
    expect(orderBy(undefined, true)).toMatch(/^m\.score DESC/);
    expect(orderBy(undefined, false)).toBe("p.id DESC");
    expect(orderBy("relevance", false)).toBe("p.id DESC");
  });
});
