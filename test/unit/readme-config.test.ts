/** The README's Configuration table documents exactly the variables config.ts reads. */
import { configKeys, hasPerServiceDatabaseUrl } from "../helpers/config-keys";
import { readRoot } from "../helpers/deploy";

function configTable(): string[] {
  const readme = readRoot("README.md");
  const start = readme.indexOf("\n## Configuration");
  expect(start).toBeGreaterThanOrEqual(0);
  const section = readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
  const names: string[] = [];
  for (const row of section.split("\n").filter((l) => l.startsWith("| `"))) {
    const first = row.split("|")[1];
    for (const m of first.matchAll(/`([^`]+)`/g)) names.push(m[1]);
  }
  return names;
}

describe("README Configuration table", () => {
  it("lists every variable services/shared/config.ts reads", () => {
    const documented = new Set(configTable());
    expect([...configKeys()].filter((k) => !documented.has(k)).sort()).toEqual([]);
    if (hasPerServiceDatabaseUrl()) expect(documented.has("<SERVICE>_DATABASE_URL")).toBe(true);
  });

  it("lists nothing config.ts does not read", () => {
    const keys = configKeys();
    const invented = configTable().filter((k) => !keys.has(k) && k !== "<SERVICE>_DATABASE_URL");
    expect(invented).toEqual([]);
  });
});
