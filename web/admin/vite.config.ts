import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run build` / `npm start` build this into web/dist/admin, which the gateway serves at /admin;
// `npx vite --config web/admin/vite.config.ts` serves it with hot reload, /api forwarded to MALL_API_URL
export default defineConfig({
  root: __dirname,
  base: "/admin/",
  plugins: [react()],
  build: {
    outDir: "../dist/admin",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        // the UI kit and the charts change rarely: long-cached chunks apart from the pages
        manualChunks: { react: ["react", "react-dom", "react-router", "@tanstack/react-query"], antd: ["antd", "@ant-design/icons"], charts: ["recharts"] },
      },
    },
  },
  server: {
    proxy: { "/api": { target: process.env.MALL_API_URL ?? "http://127.0.0.1:3000", changeOrigin: false } },
  },
});
