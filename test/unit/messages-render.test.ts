/** Rendering rules of message templates (services/messages/domain/render.ts), without a broker. */
import { BUILTINS, NOTIFICATIONS, formatMoney } from "../../services/messages/domain/defaults";
import { MissingVariableError, TemplateSyntaxError, htmlToText, placeholders, render } from "../../services/messages/domain/render";
import { retryDelayMs } from "../../services/messages/delivery";

describe("render", () => {
  const vars = { name: `<script>alert("x")</script> & Co`, n: 3 };

  it("escapes variables in HTML email bodies, never in subjects, inbox messages or SMS", () => {
    const email = render({ channel: "email", subject: "For {{name}}", body: "<p>{{name}} ({{n}})</p>" }, vars);
    expect(email.body).toBe("<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co (3)</p>");
    expect(email.subject).toBe(`For <script>alert("x")</script> & Co`);
    expect(email.text).toBe(`<script>alert("x")</script> & Co (3)`);
    for (const channel of ["inbox", "sms"] as const) {
      expect(render({ channel, subject: "s", body: "{{name}}" }, vars).body).toBe(vars.name);
    }
  });

  it("a missing variable is an error, not an empty hole; null is a value", () => {
    expect(() => render({ channel: "inbox", subject: "Order {{orderNo}}", body: "x" }, {})).toThrow(MissingVariableError);
    let caught: unknown;
    try {
      render({ channel: "inbox", subject: "s", body: "{{#if note}}{{note}}{{/if}} {{amount}}" }, { note: "n" });
    } catch (err) {
      caught = err;
    }
    expect((caught as MissingVariableError)?.variable).toBe("amount");
    expect(render({ channel: "inbox", subject: "s", body: "[{{note}}]" }, { note: null }).body).toBe("[]");
  });

  it("lists the placeholders a template reads (helpers and block scopes aside)", () => {
    expect(placeholders("{{a}} {{#if b}}{{c}}{{else}}{{d}}{{/if}} {{#each items}}{{title}}{{/each}} {{{e}}} {{@root.x}}")).toEqual(["a", "b", "c", "d", "e", "items"]);
    expect(() => placeholders("{{#if a}}")).toThrow(TemplateSyntaxError);
  });

  it("turns simple HTML into readable text", () => {
    expect(htmlToText('<p>Hi &amp; bye</p>\n<p><a href="https://x.test/o/1">View</a></p>')).toBe("Hi & bye\n\nView (https://x.test/o/1)");
  });
});

describe("shipped templates", () => {
  it("exist in both locales for every channel and use only their notification's variables", () => {
    for (const [code, locales] of BUILTINS) {
      for (const t of Object.values(locales)) {
        const used = [...new Set([...placeholders(t.subject), ...placeholders(t.body)])];
        expect({ code, locale: t.locale, unknown: used.filter((v) => !t.vars.includes(v)) }).toEqual({ code, locale: t.locale, unknown: [] });
        const all = Object.fromEntries(t.vars.map((v) => [v, "x"]));
        expect(() => render(t, all)).not.toThrow();
      }
    }
    expect(BUILTINS.size).toBe(Object.values(NOTIFICATIONS).reduce((n, d) => n + Object.keys(d.channels).length, 0));
  });

  it("money and backoff", () => {
    expect(formatMoney(12_345)).toBe("¥123.45");
    expect(formatMoney(5, "USD")).toBe("0.05 USD");
    expect([1, 2, 3, 20].map((a) => retryDelayMs(30_000, a))).toEqual([30_000, 60_000, 120_000, 3_600_000]);
  });
});
