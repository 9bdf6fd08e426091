import { Link } from "react-router";
import { useTranslation } from "react-i18next";

export default function NotFound() {
  const { t } = useTranslation();
  return (
    <div className="stack center">
      <h1>{t("common.notFound")}</h1>
      <Link to="/" className="btn btn-primary">
        {t("common.backHome")}
      </Link>
    </div>
  );
}
