import { ancestorIds, buildTree, createsCycle, subtreeIds } from "../../services/catalog/domain/category-tree";

const rows = [
  { id: 1, name: "Food", parentId: null, sort: 2 },
  { id: 2, name: "Veg", parentId: 1, sort: 0 },
  { id: 3, name: "Tomatoes", parentId: 2, sort: 0 },
  { id: 4, name: "Books", parentId: null, sort: 1 },
  { id: 5, name: "Fruit", parentId: 1, sort: -1 },
];

describe("category tree", () => {
  it("nests children and orders siblings by sort", () => {
    const tree = buildTree(rows);
    expect(tree.map((n) => n.name)).toEqual(["Books", "Food"]);
    expect(tree[1].children.map((n) => n.name)).toEqual(["Fruit", "Veg"]);
    expect(tree[1].children[1].children.map((n) => n.id)).toEqual([3]);
  });

  it("finds a category with all of its descendants", () => {
    expect(subtreeIds(rows, 1).sort()).toEqual([1, 2, 3, 5]);
    expect(subtreeIds(rows, 3)).toEqual([3]);
  });

  it("lists a category and its ancestors, nearest first", () => {
    expect(ancestorIds(rows, 3)).toEqual([3, 2, 1]);
    expect(ancestorIds(rows, 1)).toEqual([1]);
    expect(ancestorIds(rows, 99)).toEqual([99]);
  });

  it("refuses to make a category its own ancestor", () => {
    expect(createsCycle(rows, 1, 1)).toBe(true);
    expect(createsCycle(rows, 1, 3)).toBe(true); // grandchild
    expect(createsCycle(rows, 2, 3)).toBe(true); // child
    expect(createsCycle(rows, 3, 4)).toBe(false);
    expect(createsCycle(rows, 2, null)).toBe(false);
    expect(createsCycle(rows, 4, 1)).toBe(false);
  });

  it("terminates on already corrupt data", () => {
    const corrupt = [
      { id: 1, name: "a", parentId: 2, sort: 0 },
      { id: 2, name: "b", parentId: 1, sort: 0 },
    ];
    expect(createsCycle(corrupt, 3, 1)).toBe(true);
    expect(subtreeIds(corrupt, 1).sort()).toEqual([1, 2]);
    expect(ancestorIds(corrupt, 1)).toEqual([1, 2]);
  });
});
