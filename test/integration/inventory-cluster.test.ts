/**
 * Inventory in the cluster shape: MariaDB, Redis, NATS JetStream, and inventory on its own node,
 * so every concurrent call travels from the gateway/users node to inventory over NATS.
 */
import { inventorySuite } from "../helpers/inventory-suite";

jest.setTimeout(90_000);
inventorySuite({ label: "cluster", shape: "cluster", nodes: [["api", "users"], ["inventory"]] });
