/**
 * Search synonyms: groups of words a storefront search treats as the same (番茄 = 西红柿). Add a
 * group, change its words, delete it (GET/POST/PUT/DELETE /admin/search/synonyms). The server
 * normalises the words (lower case, full-width → ASCII) and needs two different ones per group.
 */
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Flex, Input, Popconfirm, Space, Table, Tag, Typography } from "antd";
import { describe, idempotencyKey, mall, when } from "../api";

/** "番茄, 西红柿；tomato" → ["番茄", "西红柿", "tomato"] */
const splitWords = (v: string) =>
  v
    .split(/[,，;；、\n]/)
    .map((w) => w.trim())
    .filter(Boolean);

export default function Synonyms() {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const groups = useQuery({ queryKey: ["synonyms"], queryFn: () => mall.call(mall.api.GET("/api/v1/admin/search/synonyms")) });
  const [words, setWords] = useState("");
  const [editing, setEditing] = useState<{ id: number; words: string } | null>(null);
  const refresh = () => void qc.invalidateQueries({ queryKey: ["synonyms"] });
  const fail = (err: unknown) => message.error(describe(err));
  const add = useMutation({
    mutationFn: (w: string[]) => mall.call(mall.api.POST("/api/v1/admin/search/synonyms", { headers: { "Idempotency-Key": idempotencyKey() }, body: { words: w } })),
    onSuccess: (g) => {
      message.success(`Synonyms added: ${g.words.join(" = ")}`);
      setWords("");
      refresh();
    },
    onError: fail,
  });
  const update = useMutation({
    mutationFn: ({ id, w }: { id: number; w: string[] }) => mall.call(mall.api.PUT("/api/v1/admin/search/synonyms/{id}", { params: { path: { id } }, body: { words: w } })),
    onSuccess: (g) => {
      message.success(`Synonyms saved: ${g.words.join(" = ")}`);
      setEditing(null);
      refresh();
    },
    onError: fail,
  });
  const remove = useMutation({
    mutationFn: (id: number) => mall.call(mall.api.DELETE("/api/v1/admin/search/synonyms/{id}", { params: { path: { id } } })),
    onSuccess: () => {
      message.success("Synonym group deleted");
      refresh();
    },
    onError: fail,
  });
  const newWords = splitWords(words);
  return (
    <>
      <Typography.Paragraph type="secondary">
        A search for any word of a group also finds products titled with the others. Separate the words with commas; a group needs at least two.
      </Typography.Paragraph>
      <Flex gap={8} wrap style={{ marginBottom: 16 }}>
        <Input aria-label="New synonym group" placeholder="番茄, 西红柿" value={words} onChange={(e) => setWords(e.target.value)} onPressEnter={() => newWords.length > 1 && add.mutate(newWords)} style={{ width: 360 }} />
        <Button type="primary" disabled={newWords.length < 2} loading={add.isPending} onClick={() => add.mutate(newWords)}>
          Add synonym group
        </Button>
      </Flex>
      <Table
        rowKey="id"
        loading={groups.isLoading}
        dataSource={groups.data ?? []}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        locale={{ emptyText: groups.error ? describe(groups.error) : "No synonym groups yet" }}
        columns={[
          { title: "ID", dataIndex: "id", width: 70 },
          {
            title: "Words",
            render: (_: unknown, g) =>
              editing?.id === g.id ? (
                <Input
                  aria-label={`Words of synonym group ${g.id}`}
                  value={editing.words}
                  onChange={(e) => setEditing({ id: g.id, words: e.target.value })}
                  onPressEnter={() => update.mutate({ id: g.id, w: splitWords(editing.words) })}
                  autoFocus
                />
              ) : (
                <Space wrap size={4}>
                  {g.words.map((w) => (
                    <Tag key={w}>{w}</Tag>
                  ))}
                </Space>
              ),
          },
          { title: "Changed", dataIndex: "updatedAt", width: 180, render: (d: string) => when(d) },
          {
            title: "",
            width: 170,
            render: (_: unknown, g) =>
              editing?.id === g.id ? (
                <Space>
                  <Button size="small" type="primary" loading={update.isPending} disabled={splitWords(editing.words).length < 2} onClick={() => update.mutate({ id: g.id, w: splitWords(editing.words) })}>
                    Save
                  </Button>
                  <Button size="small" onClick={() => setEditing(null)}>
                    Cancel
                  </Button>
                </Space>
              ) : (
                <Space>
                  <Button size="small" aria-label={`Edit synonym group ${g.id}`} onClick={() => setEditing({ id: g.id, words: g.words.join(", ") })}>
                    Edit
                  </Button>
                  <Popconfirm title="Delete this synonym group?" onConfirm={() => remove.mutate(g.id)}>
                    <Button size="small" danger aria-label={`Delete synonym group ${g.id}`}>
                      Delete
                    </Button>
                  </Popconfirm>
                </Space>
              ),
          },
        ]}
      />
    </>
  );
}
