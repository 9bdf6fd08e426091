/**
 * Categories form a tree of any depth. These pure functions build the public tree, find a
 * category's subtree (the product filter "category including its sub-categories") and its
 * ancestors (offer scopes), and refuse a move that would make a category its own ancestor.
 */

export interface CategoryRow {
  id: number;
  name: string;
  parentId: number | null;
  sort: number;
}

export interface CategoryNode {
  id: number;
  name: string;
  parentId: number | null;
  sort: number;
  children: CategoryNode[];
}

const bySortThenId = (a: { sort: number; id: number }, b: { sort: number; id: number }) => a.sort - b.sort || a.id - b.id;

/** Nested tree, siblings ordered by `sort` then id. Rows whose parent is missing become roots. */
export function buildTree(rows: CategoryRow[]): CategoryNode[] {
  const nodes = new Map<number, CategoryNode>();
  for (const r of rows) nodes.set(r.id, { id: r.id, name: r.name, parentId: r.parentId, sort: r.sort, children: [] });
  const roots: CategoryNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.parentId === null ? undefined : nodes.get(n.parentId);
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const sortDeep = (list: CategoryNode[]) => {
    list.sort(bySortThenId);
    for (const n of list) sortDeep(n.children);
  };
  sortDeep(roots);
  return roots;
}

/** `id` and every category below it (iterative, so a corrupt cycle cannot loop forever). */
export function subtreeIds(rows: CategoryRow[], id: number): number[] {
  const children = new Map<number, number[]>();
  for (const r of rows) {
    if (r.parentId === null) continue;
    const list = children.get(r.parentId) ?? [];
    list.push(r.id);
    children.set(r.parentId, list);
  }
  const seen = new Set<number>([id]);
  const stack = [id];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        stack.push(c);
      }
    }
  }
  return [...seen];
}

/**
 * `id` and its ancestors, nearest first (what an offer scoped to a parent category covers).
 * Stops at a missing parent or a corrupt cycle.
 */
export function ancestorIds(rows: CategoryRow[], id: number): number[] {
  const parentOf = new Map(rows.map((r) => [r.id, r.parentId]));
  const path: number[] = [];
  let cur: number | null | undefined = id;
  while (cur !== null && cur !== undefined && !path.includes(cur)) {
    path.push(cur);
    cur = parentOf.get(cur);
  }
  return path;
}

/**
 * Would giving category `id` the parent `newParentId` put it under itself? True when the new
 * parent is the category or one of its descendants.
 */
export function createsCycle(rows: CategoryRow[], id: number, newParentId: number | null): boolean {
  if (newParentId === null) return false;
  if (newParentId === id) return true;
  const parentOf = new Map(rows.map((r) => [r.id, r.parentId]));
  const seen = new Set<number>();
  let cur: number | null | undefined = newParentId;
  while (cur !== null && cur !== undefined) {
    if (cur === id) return true;
    if (seen.has(cur)) return true; // already corrupt: refuse rather than make it worse
    seen.add(cur);
    cur = parentOf.get(cur);
  }
  return false;
}
