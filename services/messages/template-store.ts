/**
 * Templates as the shop uses them: the shipped defaults (domain/defaults.ts) with the rows admins
 * wrote on top — an admin's row for a built-in code and locale overrides the shipped text, a row
 * with a new code is a template of its own (campaigns). Checks happen when a template is saved:
 * size, syntax, and for a built-in the variables its notification provides.
 */
import type { Sequelize } from "sequelize";
import type { Category, Channel, Locale, MessagesModels, TemplateAttrs } from "../../models/messages";
import { isUniqueViolation } from "../shared/db";
import { bizError } from "../shared/errors";
import type { Page } from "../shared/schema";
import { BUILTINS, BuiltinTemplate, DEFAULT_LOCALE, LOCALES } from "./domain/defaults";
import { Compiled, MAX_TEMPLATE_BYTES, TemplateSyntaxError, byteLength, compile, placeholders } from "./domain/render";
import type { TemplateDto } from "./messages.contracts";

/** A template in effect for one code and locale: the answer's fields, with its own limits. */
export interface Effective extends Omit<TemplateDto, "variables" | "updatedAt"> {
  /** built-in: the variables its notification provides; else null */
  allowed: readonly string[] | null;
  updatedAt: Date | null;
}

export interface TemplateFields {
  channel?: Channel;
  locale?: Locale;
  category?: Category;
  subject?: string;
  body?: string;
  enabled?: boolean;
}

function fromBuiltin(b: BuiltinTemplate): Effective {
  return { code: b.code, channel: b.channel, locale: b.locale, category: b.category, subject: b.subject, body: b.body, enabled: true, builtin: true, overridden: false, allowed: b.vars, updatedAt: null };
}

function fromRow(r: TemplateAttrs, builtin?: BuiltinTemplate): Effective {
  return {
    code: r.code,
    channel: r.channel,
    locale: r.locale,
    category: r.category,
    subject: r.subject,
    body: r.body,
    enabled: !!r.enabled,
    builtin: !!builtin,
    overridden: !!builtin,
    allowed: builtin?.vars ?? null,
    updatedAt: r.updatedAt ? new Date(r.updatedAt) : null,
  };
}

export function templateDto(e: Effective): TemplateDto {
  let variables: string[];
  try {
    variables = e.allowed ? [...e.allowed] : [...new Set([...placeholders(e.subject), ...placeholders(e.body)])].sort();
  } catch {
    variables = [];
  }
  return {
    code: e.code,
    channel: e.channel,
    locale: e.locale,
    category: e.category,
    subject: e.subject,
    body: e.body,
    enabled: e.enabled,
    builtin: e.builtin,
    overridden: e.overridden,
    variables,
    updatedAt: e.updatedAt ? e.updatedAt.toISOString() : null,
  };
}

/** Size, syntax and (built-ins) the variables used. */
function check(t: { subject: string; body: string; channel: Channel }, allowed: readonly string[] | null): void {
  for (const [field, v] of [["subject", t.subject], ["body", t.body]] as const) {
    if (byteLength(v) > MAX_TEMPLATE_BYTES) throw bizError("TEMPLATE_TOO_LARGE", `${field} is larger than 64 KB`, { field, bytes: byteLength(v), limit: MAX_TEMPLATE_BYTES });
  }
  let used: string[];
  try {
    used = [...new Set([...placeholders(t.subject), ...placeholders(t.body)])];
    compile(t);
  } catch (err) {
    if (err instanceof TemplateSyntaxError) throw bizError("TEMPLATE_INVALID", `the template does not parse: ${err.message}`);
    throw err;
  }
  if (allowed) {
    const unknown = used.filter((v) => !allowed.includes(v)).sort();
    if (unknown.length) throw bizError("TEMPLATE_PLACEHOLDER_UNKNOWN", `unknown placeholders: ${unknown.join(", ")}`, { unknown, allowed: [...allowed] });
  }
}

export class TemplateStore {
  private cache = new Map<string, Compiled>();

  constructor(private deps: { sequelize: Sequelize; models: MessagesModels }) {}

  private get T() {
    return this.deps.models.Template;
  }

  /** Every locale variant in effect for `code` (rows over shipped defaults). */
  async variants(code: string): Promise<Effective[]> {
    const rows = await this.T.findAll({ where: { code }, raw: true });
    return this.merge(code, rows);
  }

  /** Variants of several codes in one query. */
  async variantsOf(codes: string[]): Promise<Map<string, Effective[]>> {
    const rows = codes.length ? await this.T.findAll({ where: { code: codes }, raw: true }) : [];
    const out = new Map<string, Effective[]>();
    for (const code of codes) out.set(code, this.merge(code, rows.filter((r) => r.code === code)));
    return out;
  }

  private merge(code: string, rows: TemplateAttrs[]): Effective[] {
    const builtin = BUILTINS.get(code);
    const out: Effective[] = [];
    for (const locale of LOCALES) {
      const row = rows.find((r) => r.locale === locale);
      if (row) out.push(fromRow(row, builtin?.[locale]));
      else if (builtin) out.push(fromBuiltin(builtin[locale]));
    }
    return out;
  }

  /** The variant to send to a reader of `locale`: theirs, else another enabled one; null when none is enabled. */
  pick(variants: Effective[], locale: Locale): Effective | null {
    const enabled = variants.filter((v) => v.enabled);
    return enabled.find((v) => v.locale === locale) ?? enabled.find((v) => v.locale === DEFAULT_LOCALE) ?? enabled[0] ?? null;
  }

  /** A compiled template, reused while its text is unchanged. */
  compiled(e: Effective): Compiled {
    const key = `${e.code}\u0000${e.locale}\u0000${e.channel}\u0000${e.subject}\u0000${e.body}`;
    let c = this.cache.get(key);
    if (!c) {
      if (this.cache.size > 500) this.cache.clear();
      c = compile(e);
      this.cache.set(key, c);
    }
    return c;
  }

  async list(filter: { channel?: Channel; q?: string; page: number; pageSize: number }): Promise<Page<TemplateDto>> {
    const rows = await this.T.findAll({ raw: true });
    const codes = [...new Set([...BUILTINS.keys(), ...rows.map((r) => r.code)])].sort();
    let all = codes.flatMap((code) => this.merge(code, rows.filter((r) => r.code === code)));
    if (filter.channel) all = all.filter((e) => e.channel === filter.channel);
    if (filter.q) all = all.filter((e) => e.code.includes(filter.q!.toLowerCase()));
    const start = (filter.page - 1) * filter.pageSize;
    return { items: all.slice(start, start + filter.pageSize).map(templateDto), total: all.length, page: filter.page, pageSize: filter.pageSize };
  }

  async create(p: { code: string; channel: Channel; locale?: Locale; category?: Category; subject: string; body: string; enabled?: boolean }): Promise<TemplateDto> {
    const locale = p.locale ?? DEFAULT_LOCALE;
    if (BUILTINS.has(p.code)) throw bizError("TEMPLATE_EXISTS", `${p.code} is a built-in template: change it with PATCH`, { code: p.code, locale });
    const others = await this.T.findAll({ where: { code: p.code }, raw: true });
    if (others.some((o) => o.locale === locale)) throw bizError("TEMPLATE_EXISTS", undefined, { code: p.code, locale });
    const other = others.find((o) => o.channel !== p.channel);
    if (other) throw bizError("TEMPLATE_CHANNEL_MISMATCH", `${p.code} is an ${other.channel} template (locale ${other.locale})`, { code: p.code, channel: other.channel });
    check(p, null);
    const now = new Date();
    try {
      const row = await this.T.create({ code: p.code, locale, channel: p.channel, category: p.category ?? "marketing", subject: p.subject, body: p.body, enabled: p.enabled ?? true, createdAt: now, updatedAt: now });
      return templateDto(fromRow(row.get({ plain: true }) as TemplateAttrs));
    } catch (err) {
      if (isUniqueViolation(err)) throw bizError("TEMPLATE_EXISTS", undefined, { code: p.code, locale });
      throw err;
    }
  }

  async update(code: string, p: TemplateFields): Promise<TemplateDto> {
    const variants = await this.variants(code);
    if (!variants.length) throw bizError("TEMPLATE_NOT_FOUND", undefined, { code });
    const locale = p.locale ?? (variants.length === 1 ? variants[0].locale : DEFAULT_LOCALE);
    const current = variants.find((v) => v.locale === locale);
    if (!current) throw bizError("TEMPLATE_NOT_FOUND", `${code} has no ${locale} version: create it with POST`, { code, locale });
    if (p.channel && p.channel !== current.channel) throw bizError("TEMPLATE_CHANNEL_MISMATCH", `${code} is an ${current.channel} template`, { code, channel: current.channel });
    const next = {
      subject: p.subject ?? current.subject,
      body: p.body ?? current.body,
      channel: current.channel,
      category: p.category ?? current.category,
      enabled: p.enabled ?? current.enabled,
    };
    check(next, current.allowed);
    const now = new Date();
    const fields = { subject: next.subject, body: next.body, category: next.category, enabled: next.enabled, updatedAt: now };
    const [n] = await this.T.update(fields, { where: { code, locale } });
    if (n === 0) {
      // first change of a shipped template: the override row; a racing twin updates it instead
      try {
        await this.T.create({ code, locale, channel: current.channel, ...fields, createdAt: now });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await this.T.update(fields, { where: { code, locale } });
      }
    }
    const after = (await this.variants(code)).find((v) => v.locale === locale)!;
    return templateDto(after);
  }

  /** Delete an admin's template, or an override (the shipped text is back). */
  async remove(code: string, locale?: Locale): Promise<{ deleted: boolean }> {
    const where = locale ? { code, locale } : { code };
    const n = await this.T.destroy({ where });
    if (n > 0) return { deleted: true };
    if (BUILTINS.has(code)) throw bizError("TEMPLATE_BUILTIN", undefined, { code });
    throw bizError("TEMPLATE_NOT_FOUND", undefined, { code, ...(locale ? { locale } : {}) });
  }
}
