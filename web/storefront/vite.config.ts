import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run build` / `npm start` build this into web/dist/storefront, which the gateway serves at /;
// `npm run dev` serves it with hot reload and forwards /api to the running shop (MALL_API_URL)
export default defineConfig({
  root: __dirname,
  base: "/",
  plugins: [react()],
  build: {
    outDir: "../dist/storefront",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 300,
    rollupOptions: {
      output: {
        // the libraries every page needs change rarely: one long-cached chunk
        manualChunks: { vendor: ["react", "react-dom", "react-router", "@tanstack/react-query", "i18next", "react-i18next"] },
      },
    },
  },
  server: {
    proxy: { "/api": { target: process.env.MALL_API_URL ?? "http://127.0.0.1:3000", changeOrigin: false } },
  },
});
