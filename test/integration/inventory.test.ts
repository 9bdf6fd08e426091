/** Inventory in the embedded shape: one node, SQLite, in-process channels. */
import { inventorySuite } from "../helpers/inventory-suite";

inventorySuite({ label: "embedded", shape: "embedded", nodes: [["api", "users", "inventory"]] });
