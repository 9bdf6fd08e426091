import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router";
import { useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, call, mall } from "../api";
import { ErrorNote, Field } from "../ui";

export default function Auth({ mode }: { mode: "login" | "register" }) {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const next = params.get("next") && params.get("next")!.startsWith("/") ? params.get("next")! : "/";
  const navigate = useNavigate();
  const qc = useQueryClient();
  const [form, setForm] = useState({ username: "", password: "", email: "", mobile: "" });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === "register") {
        await call(api.POST("/api/v1/auth/register", { body: { username: form.username, password: form.password, email: form.email, ...(form.mobile ? { mobile: form.mobile } : {}) } }));
      }
      await mall.login(form.username, form.password);
      qc.clear();
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const title = mode === "login" ? t("auth.login") : t("auth.register");
  return (
    <div className="narrow stack">
      <h1>{title}</h1>
      <form className="card stack" onSubmit={(e) => void submit(e)} noValidate={false}>
        <Field id="username" label={mode === "login" ? `${t("auth.username")} / ${t("auth.email")}` : t("auth.username")} hint={mode === "register" ? t("auth.usernameHint") : undefined}>
          <input id="username" name="username" autoComplete="username" required minLength={3} maxLength={mode === "register" ? 32 : 254} pattern={mode === "register" ? "[A-Za-z0-9_]{3,32}" : undefined} value={form.username} onChange={set("username")} aria-describedby={mode === "register" ? "username-hint" : undefined} />
        </Field>
        {mode === "register" && (
          <>
            <Field id="email" label={t("auth.email")}>
              <input id="email" name="email" type="email" autoComplete="email" required value={form.email} onChange={set("email")} />
            </Field>
            <Field id="mobile" label={t("auth.mobile")}>
              <input id="mobile" name="mobile" type="tel" autoComplete="tel" value={form.mobile} onChange={set("mobile")} />
            </Field>
          </>
        )}
        <Field id="password" label={t("auth.password")} hint={mode === "register" ? t("auth.passwordHint") : undefined}>
          <input id="password" name="password" type="password" autoComplete={mode === "login" ? "current-password" : "new-password"} required minLength={8} maxLength={72} value={form.password} onChange={set("password")} aria-describedby={mode === "register" ? "password-hint" : undefined} />
        </Field>
        <ErrorNote error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {title}
        </button>
      </form>
      <p>
        {mode === "login" ? t("auth.noAccount") : t("auth.haveAccount")}{" "}
        <Link to={`${mode === "login" ? "/register" : "/login"}${next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`}>{mode === "login" ? t("auth.register") : t("auth.login")}</Link>
      </p>
    </div>
  );
}
