import { Badge, Card, Table, Text, Title, UnstyledButton } from '@mantine/core';
import { get } from '../api.ts';
import { isRobot } from '../describe.ts';
import { Show, useAsync } from './Async.tsx';

interface Row {
  name: string;
  count: number;
}

/** A ranked list; each name is a button that drills down. */
export function TopList({
  title,
  rows,
  path,
  robots = false,
  onPick,
  testId,
}: {
  title: string;
  rows?: Row[];
  path?: string;
  robots?: boolean;
  onPick: (name: string) => void;
  testId: string;
}) {
  const [state] = useAsync(async () => (rows ? rows : (await get<{ top: Row[] }>(path!)).top), [path, JSON.stringify(rows)]);
  return (
    <Card withBorder data-testid={testId}>
      <Title order={3} size="h5" mb="xs">
        {title}
      </Title>
      <Show state={state} what={title.toLowerCase()}>
        {(list) =>
          list.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing in this range.
            </Text>
          ) : (
            <Table verticalSpacing={4} fz="sm">
              <Table.Tbody>
                {list.map((r) => (
                  <Table.Tr key={r.name}>
                    <Table.Td>
                      <UnstyledButton onClick={() => onPick(r.name)} className="ql-clickable" fz="sm" aria-label={`Show ${r.name}`}>
                        {r.name}
                      </UnstyledButton>
                      {robots && isRobot(r.name) && (
                        <Badge size="xs" variant="outline" ml={6}>
                          robot
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td ta="right" className="ql-nowrap">
                      {r.count.toLocaleString('en-US')}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </Show>
    </Card>
  );
}
