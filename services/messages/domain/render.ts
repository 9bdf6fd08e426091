/**
 * Rendering message templates with Handlebars, pure (no broker, no database).
 *
 * - HTML email bodies escape every `{{var}}` (a nickname `<script>` arrives as text); `{{{var}}}`
 *   is the author's explicit opt-out. Subjects, inbox messages and SMS are plain text: nothing
 *   is escaped, so `AT&T <Team>` arrives as written.
 * - Rendering is strict: a placeholder without a value is an error (TEMPLATE_VARS_MISSING),
 *   never an empty hole in a message someone receives.
 * - `placeholders(source)` lists the variables a template reads, so a template can be checked
 *   against what its notification provides when it is saved, and the variables of a batch
 *   against the template before anything is queued.
 */
import Handlebars from "handlebars";
import type { Channel } from "../../../models/messages";

/** 64 KB: the most a subject, body or a batch's variables may weigh (UTF-8 bytes). */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

export type Vars = Record<string, string | number | boolean | null>;

export class TemplateSyntaxError extends Error {}
export class MissingVariableError extends Error {
  constructor(readonly variable: string) {
    super(`"${variable}" has no value`);
  }
}

/** Block helpers whose inner block reads the fields of another object (an item, a sub-object). */
const SCOPING = new Set(["each", "with"]);

type Node = hbs.AST.Node & Record<string, unknown>;

function pathHead(p: hbs.AST.PathExpression): string | null {
  if (p.data || p.depth > 0 || p.parts.length === 0) return null;
  return p.parts[0];
}

function walk(node: Node | null | undefined, out: Set<string>): void {
  if (!node) return;
  switch (node.type) {
    case "Program":
      for (const st of (node as unknown as hbs.AST.Program).body) walk(st as Node, out);
      return;
    case "MustacheStatement":
    case "SubExpression": {
      const m = node as unknown as hbs.AST.MustacheStatement;
      const isCall = m.params.length > 0 || (m.hash?.pairs.length ?? 0) > 0 || m.path.type === "SubExpression";
      if (!isCall) walk(m.path as unknown as Node, out);
      for (const p of m.params) walk(p as Node, out);
      for (const pair of m.hash?.pairs ?? []) walk(pair.value as Node, out);
      return;
    }
    case "BlockStatement": {
      const b = node as unknown as hbs.AST.BlockStatement;
      for (const p of b.params) walk(p as Node, out);
      const helper = (b.path as hbs.AST.PathExpression).original;
      if (!SCOPING.has(helper)) walk(b.program as unknown as Node, out);
      walk(b.inverse as unknown as Node, out);
      return;
    }
    case "PathExpression": {
      const head = pathHead(node as unknown as hbs.AST.PathExpression);
      if (head) out.add(head);
      return;
    }
    default:
      return;
  }
}

/** Parse a template; a syntax error becomes TemplateSyntaxError with Handlebars' explanation. */
function parse(source: string): hbs.AST.Program {
  try {
    return Handlebars.parse(source);
  } catch (err) {
    throw new TemplateSyntaxError((err as Error).message.split("\n")[0]);
  }
}

/** The variables a template reads (top-level names; inside `#each`/`#with` the item's fields are not counted). */
export function placeholders(source: string): string[] {
  const out = new Set<string>();
  walk(parse(source) as unknown as Node, out);
  return [...out].sort();
}

export interface RenderInput {
  channel: Channel;
  subject: string;
  body: string;
}
export interface Rendered {
  subject: string;
  /** HTML for email, plain text otherwise */
  body: string;
  /** email only: a plain-text alternative derived from the HTML */
  text?: string;
}

/** One compiled template, reusable for many recipients (a batch renders thousands with it). */
export interface Compiled {
  render(vars: Vars): Rendered;
  placeholders: string[];
}

const env = Handlebars.create();

function compileOne(source: string, escape: boolean) {
  parse(source);
  return env.compile(source, { strict: true, noEscape: !escape });
}

/** Handlebars' strict-mode message is `"orderNo" not defined in [object Object] - 1:5`. */
function missingName(err: unknown): string | null {
  const m = /"([^"]+)" not defined/.exec((err as Error)?.message ?? "");
  return m ? m[1] : null;
}

function run(fn: HandlebarsTemplateDelegate, vars: Vars): string {
  try {
    return fn(vars);
  } catch (err) {
    const name = missingName(err);
    if (name) throw new MissingVariableError(name);
    throw err;
  }
}

export function compile(t: RenderInput): Compiled {
  const subject = compileOne(t.subject, false);
  const body = compileOne(t.body, t.channel === "email");
  const names = [...new Set([...placeholders(t.subject), ...placeholders(t.body)])].sort();
  return {
    placeholders: names,
    render(vars: Vars): Rendered {
      // strict mode treats an explicit null as a value; an absent key is the error
      const out: Rendered = { subject: run(subject, vars).trim(), body: run(body, vars) };
      if (t.channel === "email") out.text = htmlToText(out.body);
      return out;
    },
  };
}

export function render(t: RenderInput, vars: Vars): Rendered {
  return compile(t).render(vars);
}

/** Variables that are missing for a template (without rendering it). */
export function missingVars(names: string[], vars: Vars): string[] {
  return names.filter((n) => !(n in vars));
}

const ENTITIES: Record<string, string> = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#x27;": "'", "&#39;": "'", "&#x3D;": "=", "&#x60;": "`", "&nbsp;": " " };

/** A readable plain-text alternative of a simple HTML email (links keep their address). */
export function htmlToText(html: string): string {
  return html
    .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_m, href: string, label: string) => `${label} (${href})`)
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|h[1-6]|li|tr)>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&[#a-z0-9]+;/gi, (e) => ENTITIES[e.toLowerCase()] ?? e)
    .replace(/[ \t]+\n/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

export const byteLength = (s: string) => Buffer.byteLength(s, "utf8");
