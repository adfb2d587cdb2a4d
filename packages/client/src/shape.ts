import type {
  AnyTRPCProcedure,
  AnyTRPCRouter,
  inferProcedureInput,
  inferTransformedProcedureOutput,
  TRPCBuiltRouter,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
  TRPCSubscriptionProcedure,
} from '@trpc/server';

/**
 * The client's view of a router as plain data types: per procedure its kind, its input and its
 * output as JSON delivers it. The published declarations hold this shape, printed out in full, so
 * they carry no server types (database, logger, Redis) and need no server packages to compile.
 */
export type ShapeOf<TRouter extends AnyTRPCRouter> = RecordShape<TRouter, TRouter['_def']['record']>;

type RecordShape<TRouter extends AnyTRPCRouter, TRecord> = {
  [K in keyof TRecord]: TRecord[K] extends AnyTRPCProcedure
    ? {
        type: TRecord[K]['_def']['type'];
        input: inferProcedureInput<TRecord[K]>;
        output: YieldOf<inferTransformedProcedureOutput<TRouter, TRecord[K]>>;
      }
    : TRecord[K] extends AnyTRPCRouter
      ? RecordShape<TRouter, TRecord[K]['_def']['record']>
      : RecordShape<TRouter, TRecord[K]>;
};

/**
 * A subscription's output is the stream of what it yields; the shape keeps the values (plain data,
 * printable) and `RecordFromShape` makes them a stream again.
 */
type YieldOf<TOutput> = TOutput extends AsyncIterable<infer TValue> ? TValue : TOutput;

/** One procedure of a shape. */
export interface ProcedureShape {
  type: 'query' | 'mutation' | 'subscription';
  input: unknown;
  output: unknown;
}

/** A router type, usable by `@trpc/client`, rebuilt from a shape. */
export type RouterFromShape<TShape, TRoot extends RootShape> = TRPCBuiltRouter<
  TRoot,
  RecordFromShape<TShape, TRoot>
>;

/** The root types a client needs: the error shape and that no transformer is used. */
export interface RootShape {
  ctx: object;
  meta: object;
  errorShape: unknown;
  transformer: false;
}

type RecordFromShape<TShape, TRoot extends RootShape> = {
  [K in keyof TShape]: TShape[K] extends ProcedureShape
    ? ProcedureFromShape<TShape[K], TRoot>
    : RecordFromShape<TShape[K], TRoot>;
};

type ProcedureFromShape<TProcedure extends ProcedureShape, TRoot extends RootShape> = {
  query: TRPCQueryProcedure<{
    input: TProcedure['input'];
    output: TProcedure['output'];
    meta: TRoot['meta'];
  }>;
  mutation: TRPCMutationProcedure<{
    input: TProcedure['input'];
    output: TProcedure['output'];
    meta: TRoot['meta'];
  }>;
  subscription: TRPCSubscriptionProcedure<{
    input: TProcedure['input'];
    output: AsyncIterable<TProcedure['output']>;
    meta: TRoot['meta'];
  }>;
}[TProcedure['type']];
