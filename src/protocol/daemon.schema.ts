import {z} from 'zod'

export const HealthParams = z.object({}).strict()
export const ShutdownParams = z.object({}).strict()
