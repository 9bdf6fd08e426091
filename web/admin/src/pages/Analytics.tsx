/** Analytics (admin only): any period of the shop's days, per day or hour. */
import { useState } from "react";
import { Card, DatePicker, Flex, Segmented, Typography } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { ymd } from "../api";
import { OverviewCards, SalesChart, TopProducts, type Range } from "./stats";

export default function Analytics() {
  const [dates, setDates] = useState<[Dayjs, Dayjs]>([dayjs().subtract(29, "day"), dayjs()]);
  const [interval, setInterval] = useState<"day" | "hour">("day");
  const range: Range = { from: ymd(dates[0].toDate()), to: ymd(dates[1].toDate()), interval };
  return (
    <Flex vertical gap={16}>
      <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
        Analytics
      </Typography.Title>
      <Card>
        <Flex gap={16} wrap>
          <DatePicker.RangePicker
            aria-label="Period"
            value={dates}
            allowClear={false}
            onChange={(v) => v?.[0] && v[1] && setDates([v[0], v[1]])}
            disabledDate={(d) => d.isAfter(dayjs(), "day")}
          />
          <Segmented aria-label="Interval" value={interval} onChange={(v) => setInterval(v as "day" | "hour")} options={[{ label: "Per day", value: "day" }, { label: "Per hour", value: "hour" }]} />
        </Flex>
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0 }}>
          Days are the shop's (its time zone); per hour covers at most 31 days, per day 366.
        </Typography.Paragraph>
      </Card>
      <OverviewCards title="Period" range={range} />
      <SalesChart range={range} />
      <TopProducts range={range} limit={20} />
    </Flex>
  );
}
