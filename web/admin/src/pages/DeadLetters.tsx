/** Dead letters: events a consumer gave up on, with their error and payload; replay sends one again. */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, App, Button, Popconfirm, Table, Typography } from "antd";
import type { Schemas } from "../../../shared";
import { describe, mall, when } from "../api";

type DeadLetter = Schemas["DeadLetter"];

export default function DeadLetters() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [page, setPage] = useState(1);
  const q = useQuery({ queryKey: ["dead-letters", page], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/dead-letters", { params: { query: { page, pageSize: 20 } } })) });
  const replay = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.POST("/api/v1/admin/dead-letters/{id}/replay", { params: { path: { id } } })),
    onSuccess: () => { message.success("Replayed: the consumer gets the event again"); void qc.invalidateQueries({ queryKey: ["dead-letters"] }); },
    onError: (err) => message.error(describe(err)),
  });
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>Dead letters</Typography.Title>
      {q.error && <Alert type="error" showIcon message={describe(q.error)} />}
      <Table<DeadLetter>
        rowKey="id"
        loading={q.isLoading}
        dataSource={q.data?.items ?? []}
        pagination={{ current: page, pageSize: 20, total: q.data?.total ?? 0, onChange: setPage }}
        expandable={{ expandedRowRender: (d) => <pre style={{ whiteSpace: "pre-wrap", margin: 0 }}>{JSON.stringify(d.payload, null, 2)}</pre> }}
        columns={[
          { title: "#", dataIndex: "id" },
          { title: "Channel", dataIndex: "channel" },
          { title: "Group", dataIndex: "group" },
          { title: "Attempts", dataIndex: "attempts", align: "right" },
          { title: "Error", dataIndex: "error" },
          { title: "Last failed", dataIndex: "lastFailedAt", render: when },
          { title: "Replays", render: (_: unknown, d) => `${d.replays}${d.replayedAt ? ` (last ${when(d.replayedAt)})` : ""}` },
          { title: "", render: (_: unknown, d) => <Popconfirm title="Send this event to its consumer again?" onConfirm={() => replay.mutate(d.id)}><Button size="small">Replay</Button></Popconfirm> },
        ]}
      />
    </>
  );
}
